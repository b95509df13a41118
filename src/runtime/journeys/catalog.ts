// The journeys a worker needs at hand: the live version of each published journey (for
// new entries) and any version runs are on (immutable, so cached for good). The live list
// is refreshed on NOTIFY from publish/pause/archive, and after a short TTL as a fallback.
import { JourneySchema } from '../../domain/journeys/schema.ts'
import type { Journey } from '../../domain/journeys/types.ts'
import type { Db, Queryable } from '../../store/db.ts'
import { getJourney, getJourneyVersion, JOURNEYS_CHANNEL, liveJourneys } from '../../store/journeys.ts'

export interface LiveJourney {
  readonly journey: Journey
  readonly version: number
}

/**
 * Each lookup takes the connection to read through on a miss: inside a transaction pass
 * it (the embedded database has one connection, so a read beside it would wait forever).
 */
export interface JourneyCatalog {
  live(q: Queryable, workspaceId: string): Promise<readonly LiveJourney[]>
  version(q: Queryable, workspaceId: string, journeyId: string, version: number): Promise<Journey | undefined>
  /** 'published' | 'paused' | 'archived' | 'draft' | undefined */
  status(q: Queryable, workspaceId: string, journeyId: string): Promise<string | undefined>
  invalidate(): void
  close(): Promise<void>
}

export async function makeJourneyCatalog(
  db: Db,
  ttlMs = 2000,
  now: () => number = Date.now,
): Promise<JourneyCatalog> {
  const live = new Map<string, { at: number; value: Promise<LiveJourney[]> }>()
  const statuses = new Map<string, { at: number; value: Promise<string | undefined> }>()
  const versions = new Map<string, Journey>()
  const invalidate = () => {
    live.clear()
    statuses.clear()
  }
  const unlisten = db.canListen ? await db.listen(JOURNEYS_CHANNEL, invalidate) : undefined
  const parse = (definition: unknown) => JourneySchema.parse(definition)

  return {
    live(q, workspaceId) {
      const hit = live.get(workspaceId)
      if (hit && now() - hit.at < ttlMs) return hit.value
      const value = liveJourneys(q, workspaceId).then((rows) =>
        rows.map((r) => {
          const journey = parse(r.definition)
          versions.set(`${workspaceId}/${r.journeyId}/${r.version}`, journey)
          return { journey, version: r.version }
        }),
      )
      value.catch(() => live.delete(workspaceId))
      live.set(workspaceId, { at: now(), value })
      return value
    },
    async version(q, workspaceId, journeyId, version) {
      const key = `${workspaceId}/${journeyId}/${version}`
      const hit = versions.get(key)
      if (hit) return hit
      const row = await getJourneyVersion(q, workspaceId, journeyId, version)
      if (!row) return undefined
      const journey = parse(row.definition)
      versions.set(key, journey)
      return journey
    },
    status(q, workspaceId, journeyId) {
      const key = `${workspaceId}/${journeyId}`
      const hit = statuses.get(key)
      if (hit && now() - hit.at < ttlMs) return hit.value
      const value = getJourney(q, workspaceId, journeyId).then((j) => j?.status)
      value.catch(() => statuses.delete(key))
      statuses.set(key, { at: now(), value })
      return value
    },
    invalidate,
    async close() {
      await unlisten?.()
    },
  }
}
