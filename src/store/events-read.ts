// Reading the events log for the admin API: a profile's timeline and the
// workspace's recent events, both with keyset pagination (stable under inserts).
import type { EventType } from '../domain/events/types.ts'
import type { Queryable } from './db.ts'

export interface EventRecord {
  readonly seq: number
  readonly messageId: string
  readonly type: EventType
  readonly name: string | null
  readonly userId: string | null
  readonly anonymousId: string | null
  readonly profileId: string | null
  readonly timestamp: Date
  readonly receivedAt: Date
  readonly processedAt: Date | null
  readonly payload: Record<string, unknown>
}

/** Position after which the next timeline page starts. `ts` is Postgres text, exact to the microsecond. */
export interface TimelineKey {
  readonly ts: string
  readonly seq: number
}

export interface Page<T, K> {
  readonly items: T[]
  readonly next: K | undefined
}

interface Row {
  seq: number
  message_id: string
  type: EventType
  name: string | null
  user_id: string | null
  anonymous_id: string | null
  profile_id: string | null
  timestamp: Date
  ts_key: string
  received_at: Date
  processed_at: Date | null
  payload: Record<string, unknown>
  [k: string]: unknown
}

const COLUMNS = `seq, message_id, type, name, user_id, anonymous_id, profile_id, timestamp,
  timestamp::text AS ts_key, received_at, processed_at, payload`

function toRecord(r: Row): EventRecord {
  return {
    seq: r.seq,
    messageId: r.message_id,
    type: r.type,
    name: r.name,
    userId: r.user_id,
    anonymousId: r.anonymous_id,
    profileId: r.profile_id,
    timestamp: r.timestamp,
    receivedAt: r.received_at,
    processedAt: r.processed_at,
    payload: r.payload,
  }
}

/**
 * Events of a person, newest first by when they happened (then by arrival). Takes
 * every profile id of the person (a merged profile's events may still carry the
 * absorbed profile's id).
 */
export async function listProfileEvents(
  db: Queryable,
  workspaceId: string,
  profileIds: readonly string[],
  opts: { limit: number; after?: TimelineKey | undefined },
): Promise<Page<EventRecord, TimelineKey>> {
  const rows = await db.query<Row>(
    `SELECT ${COLUMNS} FROM events
     WHERE workspace_id = $1 AND profile_id = ANY($2::uuid[])
       AND ($3::timestamptz IS NULL OR (timestamp, seq) < ($3::timestamptz, $4::bigint))
     ORDER BY timestamp DESC, seq DESC
     LIMIT $5`,
    [workspaceId, profileIds, opts.after?.ts ?? null, opts.after?.seq ?? 0, opts.limit + 1],
  )
  const items = rows.slice(0, opts.limit)
  const last = items.at(-1)
  return {
    items: items.map(toRecord),
    next: rows.length > opts.limit && last ? { ts: last.ts_key, seq: last.seq } : undefined,
  }
}

/**
 * The workspace's events, newest received first (the log's own order), optionally by name
 * and by when they happened (`since` ≤ timestamp < `until`).
 */
export async function listEvents(
  db: Queryable,
  workspaceId: string,
  opts: {
    limit: number
    name?: string | undefined
    beforeSeq?: number | undefined
    since?: Date | undefined
    until?: Date | undefined
  },
): Promise<Page<EventRecord, number>> {
  const rows = await db.query<Row>(
    `SELECT ${COLUMNS} FROM events
     WHERE workspace_id = $1
       AND ($2::text IS NULL OR name = $2)
       AND ($3::bigint IS NULL OR seq < $3)
       AND ($5::timestamptz IS NULL OR timestamp >= $5)
       AND ($6::timestamptz IS NULL OR timestamp < $6)
     ORDER BY seq DESC
     LIMIT $4`,
    [
      workspaceId,
      opts.name ?? null,
      opts.beforeSeq ?? null,
      opts.limit + 1,
      opts.since?.toISOString() ?? null,
      opts.until?.toISOString() ?? null,
    ],
  )
  const items = rows.slice(0, opts.limit)
  const last = items.at(-1)
  return { items: items.map(toRecord), next: rows.length > opts.limit && last ? last.seq : undefined }
}
