// Durable timers: one table for every kind of wake-up. Set-based: timers are
// scheduled, cancelled and claimed in batches.
import type { Queryable } from './db.ts'
import { jsonRows } from './json-rows.ts'

export const TIMERS_CHANNEL = 'nudge_timers'

export interface TimerKey {
  readonly workspaceId: string
  readonly profileId: string
  readonly timerId: string
}

export interface NewTimer extends TimerKey {
  readonly kind: string
  readonly fireAt: Date
  readonly payload: Readonly<Record<string, unknown>>
}

export interface ClaimedTimer extends NewTimer {
  readonly attempts: number
  readonly leaseOwner: string
}

/**
 * Creates or moves timers (same id = the same wake-up, rescheduled). Notifies schedulers.
 * With `keepExisting`, a timer that already exists is left as it is (backfills).
 */
export async function scheduleTimers(
  db: Queryable,
  timers: readonly NewTimer[],
  opts: { keepExisting?: boolean } = {},
): Promise<void> {
  if (timers.length === 0) return
  const rows = timers.map((t) => ({
    w: t.workspaceId,
    p: t.profileId,
    id: t.timerId,
    k: t.kind,
    f: t.fireAt.toISOString(),
    d: t.payload,
  }))
  await db.query(
    `WITH up AS (
       INSERT INTO timers (workspace_id, profile_id, timer_id, kind, fire_at, payload)
       SELECT x.w, x.p, x.id, x.k, x.f, x.d
       FROM jsonb_to_recordset($1::jsonb) AS x(w text, p uuid, id text, k text, f timestamptz, d jsonb)
       ON CONFLICT (workspace_id, profile_id, timer_id) ${
         opts.keepExisting
           ? 'DO NOTHING'
           : `DO UPDATE
         SET fire_at = EXCLUDED.fire_at, payload = EXCLUDED.payload, kind = EXCLUDED.kind,
             lease_owner = NULL, lease_until = NULL, attempts = 0, last_error = NULL`
       }
       RETURNING 1
     )
     SELECT pg_notify('${TIMERS_CHANNEL}', '') FROM (SELECT count(*) FROM up) AS c`,
    [JSON.stringify(rows)],
  )
}

export async function cancelTimers(db: Queryable, keys: readonly TimerKey[]): Promise<void> {
  if (keys.length === 0) return
  const rows = keys.map((k) => ({ w: k.workspaceId, p: k.profileId, id: k.timerId }))
  await db.query(
    `DELETE FROM timers t USING ${jsonRows('$1', 'w text, p uuid, id text')}
     WHERE t.workspace_id = x.w AND t.profile_id = x.p AND t.timer_id = x.id`,
    [JSON.stringify(rows)],
  )
}

interface TimerRow {
  workspace_id: string
  profile_id: string
  timer_id: string
  kind: string
  fire_at: Date
  payload: Record<string, unknown>
  attempts: number
  lease_owner: string
}

/**
 * Claims up to `limit` due timers for `owner` for `leaseMs`. A timer is due when its
 * time has come and nobody holds a live lease on it.
 */
export async function claimDueTimers(
  db: Queryable,
  owner: string,
  now: Date,
  limit: number,
  leaseMs: number,
): Promise<ClaimedTimer[]> {
  const rows = await db.query<TimerRow>(
    `UPDATE timers t SET lease_owner = $1, lease_until = $2::timestamptz + make_interval(secs => $4::double precision / 1000)
     FROM (
       SELECT workspace_id, profile_id, timer_id FROM timers
       WHERE fire_at <= $2 AND (lease_until IS NULL OR lease_until < $2)
       ORDER BY fire_at
       LIMIT $3
       FOR UPDATE SKIP LOCKED
     ) due
     WHERE t.workspace_id = due.workspace_id AND t.profile_id = due.profile_id AND t.timer_id = due.timer_id
     RETURNING t.workspace_id, t.profile_id, t.timer_id, t.kind, t.fire_at, t.payload, t.attempts, t.lease_owner`,
    [owner, now.toISOString(), limit, leaseMs],
  )
  return rows
    .map((r) => ({
      workspaceId: r.workspace_id,
      profileId: r.profile_id,
      timerId: r.timer_id,
      kind: r.kind,
      fireAt: r.fire_at,
      payload: r.payload,
      attempts: r.attempts,
      leaseOwner: r.lease_owner,
    }))
    .sort((a, b) => a.fireAt.getTime() - b.fireAt.getTime())
}

/**
 * Deletes a fired timer, inside the transaction that applied its effects. Returns
 * false when the lease was lost to another worker: the caller must roll back.
 */
export async function completeTimer(db: Queryable, t: ClaimedTimer): Promise<boolean> {
  const rows = await db.query(
    `DELETE FROM timers WHERE workspace_id = $1 AND profile_id = $2 AND timer_id = $3 AND lease_owner = $4 AND fire_at = $5
     RETURNING 1`,
    [t.workspaceId, t.profileId, t.timerId, t.leaseOwner, t.fireAt.toISOString()],
  )
  return rows.length > 0
}

/** Moves a claimed timer to a later time and releases it; false when the lease was lost. */
export async function postponeTimer(db: Queryable, t: ClaimedTimer, at: Date): Promise<boolean> {
  const rows = await db.query(
    `UPDATE timers SET fire_at = $6, lease_owner = NULL, lease_until = NULL
     WHERE workspace_id = $1 AND profile_id = $2 AND timer_id = $3 AND lease_owner = $4 AND fire_at = $5
     RETURNING 1`,
    [t.workspaceId, t.profileId, t.timerId, t.leaseOwner, t.fireAt.toISOString(), at.toISOString()],
  )
  return rows.length > 0
}

/** completeTimer for many timers at once; returns how many were still ours. */
export async function completeTimers(db: Queryable, timers: readonly ClaimedTimer[]): Promise<number> {
  if (timers.length === 0) return 0
  const rows = timers.map((t) => ({
    w: t.workspaceId,
    p: t.profileId,
    id: t.timerId,
    o: t.leaseOwner,
    f: t.fireAt.toISOString(),
  }))
  // `IS NOT DISTINCT FROM` (fire_at is never null) keeps the planner on the primary key:
  // with `=` it may walk the fire_at index, which is as slow as many timers share a time.
  const deleted = await db.query<{ n: number }>(
    `WITH del AS (
       DELETE FROM timers t USING ${jsonRows('$1', 'w text, p uuid, id text, o text, f timestamptz')}
       WHERE t.workspace_id = x.w AND t.profile_id = x.p AND t.timer_id = x.id AND t.lease_owner = x.o
         AND t.fire_at IS NOT DISTINCT FROM x.f
       RETURNING 1
     ) SELECT count(*)::int AS n FROM del`,
    [JSON.stringify(rows)],
  )
  return deleted[0]?.n ?? 0
}

/** Records a failed attempt and puts the timer back for `retryAt`. */
export async function retryTimer(
  db: Queryable,
  t: ClaimedTimer,
  error: string,
  retryAt: Date,
): Promise<void> {
  await db.query(
    `UPDATE timers SET attempts = attempts + 1, last_error = $5, fire_at = $6, lease_owner = NULL, lease_until = NULL
     WHERE workspace_id = $1 AND profile_id = $2 AND timer_id = $3 AND lease_owner = $4`,
    [t.workspaceId, t.profileId, t.timerId, t.leaseOwner, error.slice(0, 2000), retryAt.toISOString()],
  )
}

/** Releases leases held by `owner` (graceful shutdown). */
export async function releaseTimers(db: Queryable, owner: string): Promise<void> {
  await db.query('UPDATE timers SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = $1', [owner])
}

/** The earliest time an unclaimed timer becomes due, or null (uses the fire_at index). */
export async function nextTimerAt(db: Queryable): Promise<Date | null> {
  const rows = await db.query<{ fire_at: Date }>(
    'SELECT fire_at FROM timers WHERE lease_until IS NULL ORDER BY fire_at LIMIT 1',
  )
  return rows[0]?.fire_at ?? null
}
