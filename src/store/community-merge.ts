// Community rows of profiles that stop existing on their own: merged into another profile
// (identify, alias) or erased. The reports' rollups are corrected in the same statements'
// transaction, so they stay exactly the aggregates of the rows that remain.
import type { HeldBadgeRecord } from '../domain/community/merge.ts'
import type { Queryable } from './db.ts'

const COHORT = (ts: string) => `(date_trunc('week', ${ts} AT TIME ZONE 'UTC'))::date`

/**
 * Adds (`sign` 1) or takes away (-1) what the profiles' first entries and active weeks
 * count in the cohort rollups. Taking away updates rows that exist by construction (an
 * upsert would check a negative count before finding the row).
 */
export async function adjustCohorts(
  q: Queryable,
  ws: string,
  profileIds: readonly string[],
  sign: 1 | -1,
): Promise<void> {
  const firsts = `SELECT profile_id, stage, ${COHORT('entered_at')} AS cohort FROM profile_stage_firsts
    WHERE workspace_id = $1 AND profile_id = ANY($2::uuid[])`
  const sizes = `SELECT stage, cohort, count(*) AS n FROM f GROUP BY 1, 2`
  const active = `SELECT f.stage, f.cohort, (a.week - f.cohort) / 7 AS k, count(*) AS n FROM f
    JOIN profile_activity_weeks a ON a.workspace_id = $1 AND a.profile_id = f.profile_id AND a.week >= f.cohort
    GROUP BY 1, 2, 3`
  if (sign === 1) {
    await q.query(
      `WITH f AS (${firsts}),
       s AS (
         INSERT INTO stage_cohorts AS c (workspace_id, stage, cohort, members)
         SELECT $1, stage, cohort, n FROM (${sizes}) x ORDER BY 2, 3
         ON CONFLICT (workspace_id, stage, cohort) DO UPDATE SET members = c.members + EXCLUDED.members)
       INSERT INTO stage_cohort_activity AS r (workspace_id, stage, cohort, week_offset, members)
       SELECT $1, stage, cohort, k, n FROM (${active}) x ORDER BY 2, 3, 4
       ON CONFLICT (workspace_id, stage, cohort, week_offset) DO UPDATE SET members = r.members + EXCLUDED.members`,
      [ws, profileIds],
    )
    return
  }
  await q.query(
    `WITH f AS (${firsts}),
     s AS (
       UPDATE stage_cohorts c SET members = c.members - x.n FROM (${sizes}) x
       WHERE c.workspace_id = $1 AND c.stage = x.stage AND c.cohort = x.cohort)
     UPDATE stage_cohort_activity r SET members = r.members - x.n FROM (${active}) x
     WHERE r.workspace_id = $1 AND r.stage = x.stage AND r.cohort = x.cohort AND r.week_offset = x.k`,
    [ws, profileIds],
  )
}

/**
 * Moves `source`'s history, first entries (the earlier one wins), active weeks and content
 * count to `target`. The per-day transitions do not change: the moves still happened. The
 * caller takes both profiles' cohort counts away before and adds the target's back after.
 */
export async function moveCommunityRows(
  q: Queryable,
  ws: string,
  source: string,
  target: string,
): Promise<void> {
  const p = [ws, source, target]
  await q.query(
    'UPDATE profile_stage_history SET profile_id = $3 WHERE workspace_id = $1 AND profile_id = $2',
    p,
  )
  await q.query(
    `WITH gone AS (DELETE FROM profile_stage_firsts WHERE workspace_id = $1 AND profile_id = $2 RETURNING stage, entered_at)
     INSERT INTO profile_stage_firsts AS f (workspace_id, profile_id, stage, entered_at)
     SELECT $1, $3, stage, entered_at FROM gone
     ON CONFLICT (workspace_id, profile_id, stage) DO UPDATE SET entered_at = least(f.entered_at, EXCLUDED.entered_at)`,
    p,
  )
  await q.query(
    `WITH gone AS (DELETE FROM profile_activity_weeks WHERE workspace_id = $1 AND profile_id = $2 RETURNING week)
     INSERT INTO profile_activity_weeks (workspace_id, profile_id, week) SELECT $1, $3, week FROM gone
     ON CONFLICT DO NOTHING`,
    p,
  )
  await q.query(
    `WITH gone AS (DELETE FROM profile_content_counts WHERE workspace_id = $1 AND profile_id = $2 RETURNING created)
     INSERT INTO profile_content_counts AS c (workspace_id, profile_id, created) SELECT $1, $3, created FROM gone
     ON CONFLICT (workspace_id, profile_id) DO UPDATE SET created = c.created + EXCLUDED.created`,
    p,
  )
}

/** A current stage left without a transition (its member merged into another profile). */
export async function recordDeparture(q: Queryable, ws: string, stage: string, at: Date): Promise<void> {
  await q.query('INSERT INTO stage_departures (workspace_id, stage, left_at) VALUES ($1, $2, $3)', [
    ws,
    stage,
    at.toISOString(),
  ])
}

/** A profile's badges with who revoked them. */
export async function loadBadgeRecords(
  q: Queryable,
  ws: string,
  profileId: string,
): Promise<Map<string, HeldBadgeRecord>> {
  const rows = await q.query<{
    badge: string
    count: number
    first_awarded_at: Date
    last_awarded_at: Date
    revoked_at: Date | null
    revoked_by: string | null
  }>(
    `SELECT badge, count, first_awarded_at, last_awarded_at, revoked_at, revoked_by FROM profile_badges
     WHERE workspace_id = $1 AND profile_id = $2`,
    [ws, profileId],
  )
  return new Map(
    rows.map((r) => [
      r.badge,
      {
        badge: r.badge,
        count: Number(r.count),
        firstAwardedAt: new Date(r.first_awarded_at),
        lastAwardedAt: new Date(r.last_awarded_at),
        revokedAt: r.revoked_at ? new Date(r.revoked_at) : null,
        revokedBy: r.revoked_by,
      },
    ]),
  )
}

/** The merged-away profile's own rows, once their content lives in the survivor's. */
export async function dropMemberState(q: Queryable, ws: string, profileId: string): Promise<void> {
  const p = [ws, profileId]
  await q.query('DELETE FROM profile_stages WHERE workspace_id = $1 AND profile_id = $2', p)
  await q.query('DELETE FROM profile_badges WHERE workspace_id = $1 AND profile_id = $2', p)
  await q.query('DELETE FROM profile_scores WHERE workspace_id = $1 AND profile_id = $2', p)
}

/**
 * Erases the community rows of `profileIds` (a person being forgotten): history, stage,
 * score, badges, first entries, active weeks, content. The rollups lose what these rows
 * counted, so past reports read as if the person had never been there. Returns the rows
 * deleted.
 */
export async function eraseCommunityRows(
  q: Queryable,
  ws: string,
  profileIds: readonly string[],
): Promise<number> {
  await adjustCohorts(q, ws, profileIds, -1)
  const p = [ws, profileIds]
  const [h] = await q.query<{ n: number }>(
    `WITH gone AS (
       DELETE FROM profile_stage_history WHERE workspace_id = $1 AND profile_id = ANY($2::uuid[])
       RETURNING entered_at, stage, previous_stage, direction, time_in_previous_ms),
     d AS (
       SELECT (entered_at AT TIME ZONE 'UTC')::date AS day, stage, coalesce(previous_stage, '') AS previous_stage, direction,
         CASE WHEN direction = 'up' AND time_in_previous_ms > 0 THEN community_stay_bucket(time_in_previous_ms) ELSE -1 END AS b,
         count(*) AS n
       FROM gone GROUP BY 1, 2, 3, 4, 5),
     u AS (
       UPDATE stage_transitions_daily t SET transitions = t.transitions - d.n FROM d
       WHERE t.workspace_id = $1 AND t.day = d.day AND t.stage = d.stage AND t.previous_stage = d.previous_stage
         AND t.direction = d.direction AND t.stay_bucket = d.b)
     SELECT (SELECT count(*) FROM gone)::int AS n`,
    p,
  )
  let n = h?.n ?? 0
  for (const table of [
    'profile_stages',
    'profile_scores',
    'profile_badges',
    'profile_stage_firsts',
    'profile_activity_weeks',
    'profile_content_counts',
  ]) {
    const [r] = await q.query<{ n: number }>(
      `WITH d AS (DELETE FROM ${table} WHERE workspace_id = $1 AND profile_id = ANY($2::uuid[]) RETURNING 1)
       SELECT count(*)::int AS n FROM d`,
      p,
    )
    n += r?.n ?? 0
  }
  return n
}
