// The community reports (docs/community.md): each one set-based statement over the
// community state tables and the profile counters. Periods and "now" are parameters.
import type { CompiledStages } from '../domain/community/stage-config.ts'
import type { Queryable } from './db.ts'

const n = (v: unknown) => Number(v ?? 0)

/**
 * Members per stage now, in funnel order, empty stages included. At a past moment D: the
 * count now, minus the entries into the stage since D, plus the exits from it since D
 * (rows whose previous_stage it is), so the cost follows the moves since D, not the
 * whole history.
 */
export async function stageDistribution(q: Queryable, ws: string, stages: CompiledStages, at?: Date) {
  const rows = await q.query(
    `WITH now_ AS (
       SELECT stage, count(*) AS n FROM profile_stages WHERE workspace_id = $1 GROUP BY stage),
     since AS (
       SELECT stage, previous_stage FROM profile_stage_history
       WHERE $3::timestamptz IS NOT NULL AND workspace_id = $1 AND entered_at > $3::timestamptz),
     delta AS (
       SELECT stage, -count(*) AS n FROM since GROUP BY 1
       UNION ALL
       SELECT previous_stage, count(*) FROM since WHERE previous_stage IS NOT NULL GROUP BY 1)
     SELECT s.stage, coalesce((SELECT n FROM now_ WHERE now_.stage = s.stage), 0)
       + coalesce((SELECT sum(n) FROM delta WHERE delta.stage = s.stage), 0) AS members
     FROM unnest($2::text[]) WITH ORDINALITY AS s(stage, ord) ORDER BY s.ord`,
    [ws, stages.ids, at ? at.toISOString() : null],
  )
  return rows.map((r) => ({ stage: r['stage'] as string, members: n(r['members']) }))
}

export interface StageConversion {
  readonly stage: string
  readonly entered: number
  readonly promoted: number
  readonly demoted: number
  /** promoted / entered over the period; null when no one entered. */
  readonly conversion: number | null
  /** Median real stay before moving up (stages crossed within one evaluation excluded). */
  readonly medianMsBeforePromotion: number | null
}

export async function stageConversion(
  q: Queryable,
  ws: string,
  stages: CompiledStages,
  from: Date,
  to: Date,
): Promise<StageConversion[]> {
  // One pass over the period's transitions: entries by stage, exits by previous stage.
  const rows = await q.query(
    `WITH h AS MATERIALIZED (
       SELECT stage, previous_stage, direction, time_in_previous_ms FROM profile_stage_history
       WHERE workspace_id = $1 AND entered_at >= $3 AND entered_at < $4),
     entries AS (SELECT stage, count(*) AS entered FROM h GROUP BY stage),
     exits AS (
       SELECT previous_stage AS stage,
         count(*) FILTER (WHERE direction = 'up') AS promoted,
         count(*) FILTER (WHERE direction = 'down') AS demoted,
         percentile_cont(0.5) WITHIN GROUP (ORDER BY time_in_previous_ms)
           FILTER (WHERE direction = 'up' AND time_in_previous_ms > 0) AS median_ms
       FROM h WHERE previous_stage IS NOT NULL GROUP BY previous_stage)
     SELECT s.stage, e.entered, x.promoted, x.demoted, x.median_ms
     FROM unnest($2::text[]) WITH ORDINALITY AS s(stage, ord)
     LEFT JOIN entries e ON e.stage = s.stage LEFT JOIN exits x ON x.stage = s.stage
     ORDER BY s.ord`,
    [ws, stages.ids, from.toISOString(), to.toISOString()],
  )
  return rows.map((r) => {
    const entered = n(r['entered'])
    const promoted = n(r['promoted'])
    return {
      stage: r['stage'] as string,
      entered,
      promoted,
      demoted: n(r['demoted']),
      conversion: entered ? promoted / entered : null,
      medianMsBeforePromotion:
        r['median_ms'] === null || r['median_ms'] === undefined ? null : n(r['median_ms']),
    }
  })
}

/** Stuck members per stage at `now` (in the stage longer than its stuck_after). */
export async function stuckMembers(q: Queryable, ws: string, stages: CompiledStages, now: Date) {
  const limits = stages.ids.map((id, i) => ({ s: id, o: i, ms: stages.stuckAfterMs[i] ?? null }))
  // A count per stage over the (workspace_id, stage, entered_at) index.
  const rows = await q.query(
    `SELECT x.s AS stage, CASE WHEN x.ms IS NULL THEN 0 ELSE (SELECT count(*) FROM profile_stages p
       WHERE p.workspace_id = $1 AND p.stage = x.s AND p.entered_at <= $3::timestamptz - x.ms * interval '1 millisecond') END AS stuck
     FROM jsonb_to_recordset($2::jsonb) AS x(s text, o int, ms bigint) ORDER BY x.o`,
    [ws, JSON.stringify(limits), now.toISOString()],
  )
  return rows.map((r) => ({ stage: r['stage'] as string, stuck: n(r['stuck']) }))
}

/** Highest decayed scores at `now`; ordered by the rank key, so no member is decayed to sort. */
export async function topByScore(q: Queryable, ws: string, now: Date, halfLifeMs: number, limit = 20) {
  const rows = await q.query(
    `SELECT profile_id, value * power(2, -greatest(0, extract(epoch FROM ($2::timestamptz - at))::double precision * 1000) / $3::double precision) AS score
     FROM profile_scores WHERE workspace_id = $1 AND rank_key IS NOT NULL
     ORDER BY rank_key DESC LIMIT $4`,
    [ws, now.toISOString(), halfLifeMs, limit],
  )
  return rows.map((r) => ({ profileId: r['profile_id'] as string, score: n(r['score']) }))
}

/** Most content created, all time, from the per-profile event counters. */
export async function topByContent(q: Queryable, ws: string, contentEvents: readonly string[], limit = 20) {
  const rows = await q.query(
    `SELECT profile_id, sum(count) AS created FROM profile_event_counters
     WHERE workspace_id = $1 AND event = ANY($2::text[])
     GROUP BY profile_id ORDER BY created DESC, profile_id LIMIT $3`,
    [ws, contentEvents, limit],
  )
  return rows.map((r) => ({ profileId: r['profile_id'] as string, created: n(r['created']) }))
}

/**
 * Members (stage at or above `fromStage`) who earned points within the window (their
 * score's last_active_at), and the others.
 */
export async function activeVsInactive(
  q: Queryable,
  ws: string,
  stages: CompiledStages,
  fromStage: string,
  now: Date,
  windowMs: number,
) {
  const memberStages = stages.ids.slice(stages.index.get(fromStage) ?? 0)
  const [r] = await q.query(
    `SELECT count(*) FILTER (WHERE s.last_active_at >= $3::timestamptz - $4 * interval '1 millisecond') AS active,
       count(*) AS members
     FROM profile_stages p
     LEFT JOIN profile_scores s ON s.workspace_id = p.workspace_id AND s.profile_id = p.profile_id
     WHERE p.workspace_id = $1 AND p.stage = ANY($2::text[])`,
    [ws, memberStages, now.toISOString(), windowMs],
  )
  const active = n(r?.['active'])
  return { active, inactive: n(r?.['members']) - active }
}

/**
 * Weekly cohorts (weeks start Monday 00:00 UTC) by the week members first entered
 * `joinStage`; retained[k] is how many of them earned points during the k-th week after
 * that week's start (profile_activity_weeks).
 */
export async function weeklyCohorts(
  q: Queryable,
  ws: string,
  joinStage: string,
  from: Date,
  to: Date,
  weeks: number,
) {
  const rows = await q.query(
    `WITH joined AS (
       SELECT h.profile_id, (date_trunc('week', h.entered_at AT TIME ZONE 'UTC'))::date AS cohort
       FROM profile_stage_history h
       WHERE h.workspace_id = $1 AND h.entered_at >= $3 AND h.entered_at < $4 AND h.stage = $2 AND h.direction = 'up'
         AND NOT EXISTS (SELECT 1 FROM profile_stage_history e
           WHERE e.workspace_id = h.workspace_id AND e.profile_id = h.profile_id AND e.seq < h.seq
             AND e.stage = $2 AND e.direction = 'up')),
     activity AS (
       SELECT j.cohort, (a.week - j.cohort) / 7 AS k, count(*) AS n FROM joined j
       JOIN profile_activity_weeks a ON a.workspace_id = $1 AND a.profile_id = j.profile_id
         AND a.week >= j.cohort AND a.week < j.cohort + $5 * 7
       GROUP BY 1, 2)
     SELECT to_char(c.cohort, 'YYYY-MM-DD') AS cohort, c.members, coalesce(jsonb_object_agg(a.k, a.n) FILTER (WHERE a.k IS NOT NULL), '{}') AS retained
     FROM (SELECT cohort, count(*) AS members FROM joined GROUP BY cohort) c
     LEFT JOIN activity a ON a.cohort = c.cohort
     GROUP BY c.cohort, c.members ORDER BY c.cohort`,
    [ws, joinStage, from.toISOString(), to.toISOString(), weeks],
  )
  return rows.map((r) => {
    const byWeek = (typeof r['retained'] === 'string' ? JSON.parse(r['retained']) : r['retained']) as Record<
      string,
      number
    >
    return {
      cohort: new Date(`${r['cohort'] as string}T00:00:00Z`),
      members: n(r['members']),
      retained: Array.from({ length: weeks }, (_, k) => n(byWeek[String(k)])),
    }
  })
}

/** Badges by holders now (revoked excluded), most held first. */
export async function badgeReport(q: Queryable, ws: string) {
  const rows = await q.query(
    `SELECT badge, count(*) AS holders, sum(count) AS awards FROM profile_badges
     WHERE workspace_id = $1 AND revoked_at IS NULL GROUP BY badge ORDER BY holders DESC, badge`,
    [ws],
  )
  return rows.map((r) => ({ badge: r['badge'] as string, holders: n(r['holders']), awards: n(r['awards']) }))
}

/** The stuck members of one stage at `now`, longest in the stage first. */
export async function stuckList(
  q: Queryable,
  ws: string,
  stage: string,
  stuckAfterMs: number,
  now: Date,
  limit = 50,
) {
  const rows = await q.query(
    `SELECT s.profile_id, p.user_id, s.entered_at FROM profile_stages s
     JOIN profiles p ON p.workspace_id = s.workspace_id AND p.profile_id = s.profile_id
     WHERE s.workspace_id = $1 AND s.stage = $2 AND s.entered_at <= $3::timestamptz - $4 * interval '1 millisecond'
     ORDER BY s.entered_at, s.profile_id LIMIT $5`,
    [ws, stage, now.toISOString(), stuckAfterMs, limit],
  )
  return rows.map((r) => ({
    profileId: r['profile_id'] as string,
    userId: (r['user_id'] as string | null) ?? null,
    enteredAt: new Date(r['entered_at'] as string),
  }))
}
