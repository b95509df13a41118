// Internal events about a known profile (`Message Opened`, `Unsubscribed`, ...) re-enter the
// events log as track calls carrying the profile's own identity, so the processor files
// them under that profile, in its partition, after what it already did. Each carries a
// deterministic messageId: a retried request or a redelivered mail never appends twice.
import { partitionOf } from '../domain/events/partition.ts'
import type { NewEvent } from '../domain/events/types.ts'
import type { Queryable } from './db.ts'
import { insertEvents } from './events.ts'

export interface ProfileIdentity {
  /** The live profile: a merged profile's id leads to the one it was merged into. */
  readonly profileId: string
  readonly userId: string | null
  readonly anonymousId: string | null
}

/** The live profile behind an id and the identity its events are sent with. */
export async function profileIdentity(
  db: Queryable,
  workspaceId: string,
  profileId: string,
): Promise<ProfileIdentity | undefined> {
  let id = profileId
  // Merges chain rarely; the bound only guards against a corrupted cycle.
  for (let hops = 0; hops < 8; hops++) {
    const rows = await db.query<{ user_id: string | null; merged_into: string | null; anon: string | null }>(
      `SELECT p.user_id, p.merged_into,
         (SELECT value FROM profile_identities i
          WHERE i.workspace_id = p.workspace_id AND i.profile_id = p.profile_id AND i.kind = 'anonymous_id'
          ORDER BY first_seen_at, value LIMIT 1) AS anon
       FROM profiles p WHERE p.workspace_id = $1 AND p.profile_id = $2`,
      [workspaceId, id],
    )
    const r = rows[0]
    if (!r) return undefined
    if (r.merged_into) {
      id = r.merged_into
      continue
    }
    if (!r.user_id && !r.anon) return undefined
    return { profileId: id, userId: r.user_id, anonymousId: r.user_id ? null : r.anon }
  }
  return undefined
}

export interface ProfileEvent {
  readonly workspaceId: string
  readonly profileId: string
  /** Deterministic, e.g. `nudge:opened:<message id>`. */
  readonly messageId: string
  readonly name: string
  readonly properties: Readonly<Record<string, unknown>>
  readonly at: Date
  /** What emitted it, for the event's context. */
  readonly source: string
}

/** Appends the events; false for one whose profile is gone (erased) and so has no identity. */
export async function emitProfileEvents(db: Queryable, events: readonly ProfileEvent[]): Promise<number> {
  const rows: NewEvent[] = []
  for (const e of events) {
    const who = await profileIdentity(db, e.workspaceId, e.profileId)
    if (!who) continue
    rows.push({
      workspaceId: e.workspaceId,
      messageId: e.messageId,
      type: 'track',
      name: e.name,
      userId: who.userId,
      anonymousId: who.anonymousId,
      timestamp: e.at,
      receivedAt: e.at,
      partition: partitionOf(e.workspaceId, who.userId, who.anonymousId),
      payload: {
        type: 'track',
        event: e.name,
        properties: e.properties,
        ...(who.userId ? { userId: who.userId } : { anonymousId: who.anonymousId }),
        timestamp: e.at.toISOString(),
        context: { nudge: { internal: true, source: e.source } },
      },
    })
  }
  const { inserted } = await insertEvents(db, rows)
  return inserted.size
}

/** The live profile of a userId, if the processor has seen it. */
export async function profileIdOfUser(
  db: Queryable,
  workspaceId: string,
  userId: string,
): Promise<string | undefined> {
  const rows = await db.query<{ profile_id: string }>(
    'SELECT profile_id FROM profiles WHERE workspace_id = $1 AND user_id = $2 AND merged_into IS NULL',
    [workspaceId, userId],
  )
  return rows[0]?.profile_id
}
