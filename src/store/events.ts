// The events log: append-only, unique on (workspace_id, message_id).
import { partitionOf } from '../domain/events/partition.ts'
import type { NewEvent } from '../domain/events/types.ts'
import type { Queryable } from './db.ts'

/** NOTIFY channel raised in the inserting transaction: the processor wakes on commit. */
export const EVENTS_CHANNEL = 'nudge_events'

export interface InsertResult {
  /** messageIds stored by this call (a duplicate of an earlier messageId is not). */
  readonly inserted: ReadonlySet<string>
}

/**
 * Stores events in one statement; a messageId already in the log is skipped, so a
 * retried request is acknowledged without being stored or processed twice. Rows
 * travel as one JSON parameter, which keeps the statement identical for any batch
 * size and works the same on both adapters.
 */
export interface InsertOptions {
  /**
   * false: the caller calls notifyEvents() after the commit instead. PostgreSQL
   * holds a database-wide lock from NOTIFY until the end of commit, WAL flush
   * included, so concurrent notifying writes flush one at a time; a NOTIFY in its
   * own statement writes no WAL and holds that lock only for an instant.
   */
  readonly notify?: boolean
}

/**
 * An event written already applied: a follow-up the processor applied in the round that
 * emitted it (see apply-events.ts), so it never waits in the pending queue.
 */
export interface AppliedEvent extends NewEvent {
  readonly applied: { readonly profileId: string; readonly at: Date }
}

export async function insertEvents(
  db: Queryable,
  events: ReadonlyArray<NewEvent | AppliedEvent>,
  opts: InsertOptions = {},
): Promise<InsertResult> {
  if (events.length === 0) return { inserted: new Set() }
  const rows = eventRows(events)
  const insert = `${EVENTS_INSERT('$1')} RETURNING message_id`
  const inserted = await db.query<{ message_id: string }>(
    opts.notify === false
      ? insert
      : `WITH ins AS (${insert}) SELECT message_id FROM ins, (SELECT pg_notify('${EVENTS_CHANNEL}', '')) AS n`,
    [rows],
  )
  return { inserted: new Set(inserted.map((r) => r.message_id)) }
}

/**
 * The JSON parameter of EVENTS_INSERT. `tags` adds keys of the caller's to each row (the
 * insert ignores them; a statement may filter the rows on them first).
 */
export function eventRows(
  events: ReadonlyArray<NewEvent | AppliedEvent>,
  tags?: ReadonlyArray<Readonly<Record<string, unknown>>>,
): string {
  // Events of one request share their receivedAt: format it once per run of them.
  let receivedAt: Date | undefined
  let receivedAtIso = ''
  return JSON.stringify(
    events.map((e, i) => {
      if (e.receivedAt !== receivedAt) {
        receivedAt = e.receivedAt
        receivedAtIso = receivedAt.toISOString()
      }
      const row = {
        w: e.workspaceId,
        m: e.messageId,
        t: e.type,
        n: e.name,
        u: e.userId,
        a: e.anonymousId,
        p: e.partition,
        ts: e.timestamp.toISOString(),
        r: receivedAtIso,
        d: e.payload,
      }
      const full = 'applied' in e ? { ...row, pr: e.applied.profileId, pa: e.applied.at.toISOString() } : row
      return tags?.[i] ? { ...full, ...tags[i] } : full
    }),
  )
}

/**
 * Appends the events of `param` (eventRows), pending, or processed for those applied; a
 * messageId already in the log is skipped. jsonb_to_recordset: the rows are parsed once,
 * and each payload comes out already jsonb. json_to_recordset scans the text and then
 * parses every payload again: measured about a third more database CPU per event on
 * PostgreSQL 15, and no faster on PGlite (see docs/benchmarks.md).
 */
export const EVENTS_INSERT = (param: string) =>
  `INSERT INTO events (workspace_id, message_id, type, name, user_id, anonymous_id, partition, timestamp, received_at, payload,
                      profile_id, processed_at)
   SELECT x.w, x.m, x.t, x.n, x.u, x.a, x.p, x.ts, x.r, x.d, x.pr, x.pa
   FROM jsonb_to_recordset(${param}::jsonb) AS x(w text, m text, t text, n text, u text, a text, p smallint, ts timestamptz, r timestamptz, d jsonb, pr uuid, pa timestamptz)
   ON CONFLICT (workspace_id, message_id) DO NOTHING`

/** An internal event for a profile; `messageId` must be deterministic for its cause. */
export interface ProfileEvent {
  readonly workspaceId: string
  readonly profileId: string
  readonly messageId: string
  readonly event: string
  readonly properties: Readonly<Record<string, unknown>>
  readonly at: Date
}

/**
 * Appends an internal event for a profile (outside the processor: timers, dispatcher,
 * public pages). It carries one of the profile's identities so the processor routes it
 * back to the same profile. False when it was not stored (a duplicate, or a profile
 * without identities).
 */
export async function emitProfileEvent(
  db: Queryable,
  e: ProfileEvent,
  opts: InsertOptions = {},
): Promise<boolean> {
  return (await emitProfileEvents(db, [e], opts)).inserted.size > 0
}

/** emitProfileEvent for many events: one identity lookup and one insert for all. */
export async function emitProfileEvents(
  db: Queryable,
  events: readonly ProfileEvent[],
  opts: InsertOptions = {},
): Promise<InsertResult> {
  if (events.length === 0) return { inserted: new Set() }
  const identity = await eventIdentities(db, events)
  const rows: NewEvent[] = []
  for (const e of events) {
    const id = identity.get(`${e.workspaceId}\u0000${e.profileId}`)
    if (id) rows.push(profileEventRow(e, id))
  }
  return insertEvents(db, rows, opts)
}

/**
 * The identity each profile's internal events carry, keyed `workspace\0profile`: its first
 * userId, else its first anonymousId. A profile without identities is not in the map.
 */
export async function eventIdentities(
  db: Queryable,
  profiles: ReadonlyArray<{ readonly workspaceId: string; readonly profileId: string }>,
): Promise<Map<string, EventIdentity>> {
  const keys = [...new Set(profiles.map((e) => `${e.workspaceId}\u0000${e.profileId}`))].map((k) => {
    const [w, p] = k.split('\u0000')
    return { w, p }
  })
  const ids = await db.query<{
    workspace_id: string
    profile_id: string
    kind: 'user_id' | 'anonymous_id'
    value: string
  }>(
    // Each profile's identities through profile_identities_profile (LATERAL): joined as sets,
    // the planner, expecting 100 keys of the JSON, read every identity of the workspace.
    `SELECT x.w AS workspace_id, x.p AS profile_id, i.kind, i.value
     FROM jsonb_to_recordset($1::jsonb) AS x(w text, p uuid)
     CROSS JOIN LATERAL (
       SELECT i.kind, i.value FROM profile_identities i
       WHERE i.workspace_id = x.w AND i.profile_id = x.p
       ORDER BY i.kind = 'user_id' DESC, i.first_seen_at, i.value LIMIT 1
     ) i`,
    [JSON.stringify(keys)],
  )
  return new Map(
    ids.map((r) => [
      `${r.workspace_id}\u0000${r.profile_id}`,
      {
        userId: r.kind === 'user_id' ? r.value : null,
        anonymousId: r.kind === 'anonymous_id' ? r.value : null,
      },
    ]),
  )
}

/** The identity an internal event carries, so the processor routes it to its profile. */
export interface EventIdentity {
  readonly userId: string | null
  readonly anonymousId: string | null
}

/** The log row of an internal event of a profile, carrying `identity`. */
export function profileEventRow(e: ProfileEvent, { userId, anonymousId }: EventIdentity): NewEvent {
  return {
    workspaceId: e.workspaceId,
    messageId: e.messageId,
    type: 'track',
    name: e.event,
    userId,
    anonymousId,
    timestamp: e.at,
    receivedAt: e.at,
    partition: partitionOf(e.workspaceId, userId, anonymousId),
    payload: {
      type: 'track',
      event: e.event,
      properties: e.properties,
      userId,
      anonymousId,
      context: { nudge: { internal: true } },
    },
  }
}

/** Wakes the processors: for writers that passed `notify: false`, after their commit. */
export async function notifyEvents(db: Queryable): Promise<void> {
  await db.query(`SELECT pg_notify('${EVENTS_CHANNEL}', '')`)
}
