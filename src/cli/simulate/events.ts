// The events a simulation replays: Segment messages from an NDJSON file (validated as
// ingest would), or the stored history of a running instance through its admin API.
// Both become the engine's events exactly as the runtime converts logged ones.
import { createReadStream } from 'node:fs'
import { createInterface } from 'node:readline'
import { normalizeEvent } from '../../domain/events/normalize.ts'
import type { NewEvent } from '../../domain/events/types.ts'
import type { SimulationEvent } from '../../domain/journeys/simulate.ts'
import { journeyEventOf } from '../../runtime/journeys/runtime.ts'
import type { Client } from '../client.ts'

export interface Rejected {
  readonly line: number
  readonly reason: string
}

export interface LoadedEvents {
  readonly events: SimulationEvent[]
  readonly rejected: Rejected[]
  /** Events Nudge emitted for its own journeys, left out: the simulation decides afresh. */
  readonly ownLeftOut: number
}

type Logged = Pick<
  NewEvent,
  'type' | 'name' | 'timestamp' | 'payload' | 'messageId' | 'userId' | 'anonymousId'
>

function toSimulation(e: Logged): SimulationEvent {
  return { profileId: e.userId ?? e.anonymousId ?? '', event: journeyEventOf(e) }
}

const isOwn = (messageId: string) => messageId.startsWith('nudge:journeys:')

/** One Segment message per line; a bad line is reported with its number and skipped. */
export async function eventsFromFile(file: string, now: Date): Promise<LoadedEvents> {
  const events: SimulationEvent[] = []
  const rejected: Rejected[] = []
  let ownLeftOut = 0
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Number.POSITIVE_INFINITY })
  let n = 0
  for await (const line of lines) {
    n++
    if (line.trim() === '') continue
    let raw: unknown
    try {
      raw = JSON.parse(line)
    } catch (err) {
      rejected.push({ line: n, reason: `not JSON (${(err as Error).message})` })
      continue
    }
    const lineNo = n
    const result = normalizeEvent(raw, undefined, {
      workspaceId: 'simulation',
      receivedAt: now,
      newMessageId: () => `line-${lineNo}`,
    })
    if (!result.ok) {
      rejected.push({
        line: n,
        reason: result.issues.map((i) => `${i.path || 'event'}: ${i.message}`).join('; '),
      })
      continue
    }
    if (isOwn(result.event.messageId)) ownLeftOut++
    else events.push(toSimulation(result.event))
  }
  return { events, rejected, ownLeftOut }
}

interface EventItem {
  readonly messageId: string
  readonly type: NewEvent['type']
  readonly name: string | null
  readonly userId: string | null
  readonly anonymousId: string | null
  readonly timestamp: string
  readonly payload: Record<string, unknown>
}

/** The events that happened since `since`, page by page through GET /api/v1/events. */
export async function eventsFromServer(client: Client, since: Date, until: Date): Promise<LoadedEvents> {
  const events: SimulationEvent[] = []
  let ownLeftOut = 0
  let cursor: string | null = null
  do {
    const query = new URLSearchParams({
      since: since.toISOString(),
      until: until.toISOString(),
      limit: '1000',
      ...(cursor ? { cursor } : {}),
    })
    const page: { items: EventItem[]; nextCursor: string | null } = await client.admin(
      'GET',
      `/api/v1/events?${query}`,
    )
    for (const item of page.items) {
      if (isOwn(item.messageId)) ownLeftOut++
      else events.push(toSimulation({ ...item, timestamp: new Date(item.timestamp) }))
    }
    cursor = page.nextCursor
  } while (cursor)
  // Pages come newest first; the log's order breaks ties between events of the same instant.
  return { events: events.reverse(), rejected: [], ownLeftOut }
}
