// The community reports (docs/community.md): each one set-based statement over the
// community state tables and the profile counters. Periods and "now" are parameters.
import type { CompiledStages } from '../domain/community/stage-config.ts'
import type { Queryable } from './db.ts'

const n = (v: unknown) => Number(v ?? 0)

/** Members per stage now, in funnel order, empty stages included. */
export async function stageDistribution(q: Queryable, ws: string, stages: CompiledStages, at?: Date) {
  const rows = at
    ? await q.query(
        `WITH last AS (
           SELECT DISTINCT ON (profile_id) profile_id, stage FROM profile_stage_history
           WHERE workspace_id = $1 AND entered_at <= $3 ORDER BY profile_id, entered_at DESC, seq DESC)
         SELECT s.stage, count(l.profile_id) AS members
         FROM unnest($2::text[]) WITH ORDINALITY AS s(stage, ord) LEFT JOIN last l ON l.stage = s.stage
         GROUP BY s.stage, s.ord ORDER BY s.ord`,
        [ws, stages.ids, at.toISOString()],
      )
    : await q.query(
        `SELECT s.stage, count(p.profile_id) AS members
         FROM unnest($2::text[]) WITH ORDINALITY AS s(stage, ord)
         LEFT JOIN profile_stages p ON p.workspace_id = $1 AND p.stage = s.stage
         GROUP BY s.stage, s.ord ORDER BY s.ord`,
        [ws, stages.ids],
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
  const rows = await q.query(
    `WITH h AS (
       SELECT stage, previous_stage, direction, time_in_previous_ms FROM profile_stage_history
       WHERE workspace_id = $1 AND entered_at >= $3 AND entered_at < $4)
     SELECT s.stage,
       (SELECT count(*) FROM h WHERE h.stage = s.stage) AS entered,
       (SELECT count(*) FROM h WHERE h.previous_stage = s.stage AND h.direction = 'up') AS promoted,
       (SELECT count(*) FROM h WHERE h.previous_stage = s.stage AND h.direction = 'down') AS demoted,
       (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY h.time_in_previous_ms) FROM h
         WHERE h.previous_stage = s.stage AND h.direction = 'up' AND h.time_in_previous_ms > 0) AS median_ms
     FROM unnest($2::text[]) WITH ORDINALITY AS s(stage, ord) ORDER BY s.ord`,
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
      medianMsBeforePromotion: r['median_ms'] === null ? null : n(r['median_ms']),
    }
  })
}

/** Stuck members per stage at `now` (in the stage longer than its stuck_after). */
export async function stuckMembers(q: Queryable, ws: string, stages: CompiledStages, now: Date) {
  const limits = stages.ids.map((id, i) => ({ s: id, o: i, ms: stages.stuckAfterMs[i] ?? null }))
  const rows = await q.query(
    `SELECT x.s AS stage, count(p.profile_id) AS stuck
     FROM jsonb_to_recordset($2::jsonb) AS x(s text, o int, ms bigint)
     LEFT JOIN profile_stages p ON p.workspace_id = $1 AND p.stage = x.s AND x.ms IS NOT NULL
       AND p.entered_at <= $3::timestamptz - x.ms * interval '1 millisecond'
     GROUP BY x.s, x.o ORDER BY x.o`,
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

/** Members (stage at or above `fromStage`) active within the window, and the others. */
export async function activeVsInactive(
  q: Queryable,
  ws: string,
  stages: CompiledStages,
  fromStage: string,
  activityEvents: readonly string[],
  now: Date,
  windowMs: number,
) {
  const memberStages = stages.ids.slice(stages.index.get(fromStage) ?? 0)
  const [r] = await q.query(
    `SELECT count(*) FILTER (WHERE a.active) AS active, count(*) FILTER (WHERE NOT a.active) AS inactive
     FROM (SELECT EXISTS (SELECT 1 FROM profile_event_counters c
             WHERE c.workspace_id = p.workspace_id AND c.profile_id = p.profile_id
               AND c.event = ANY($3::text[]) AND c.last_at >= $4::timestamptz - $5 * interval '1 millisecond') AS active
           FROM profile_stages p WHERE p.workspace_id = $1 AND p.stage = ANY($2::text[])) a`,
    [ws, memberStages, activityEvents, now.toISOString(), windowMs],
  )
  return { active: n(r?.['active']), inactive: n(r?.['inactive']) }
}

/**
 * Weekly cohorts (weeks start Monday 00:00 UTC) by the week members first entered `joinStage`; retained[k] is how many
 * of them performed an activity event during the k-th week after that week's start.
 */
export async function weeklyCohorts(
  q: Queryable,
  ws: string,
  joinStage: string,
  activityEvents: readonly string[],
  from: Date,
  to: Date,
  weeks: number,
) {
  const rows = await q.query(
    `WITH joined AS (
       SELECT profile_id, date_trunc('week', min(entered_at) AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS cohort FROM profile_stage_history
       WHERE workspace_id = $1 AND stage = $2 AND direction = 'up'
       GROUP BY profile_id HAVING min(entered_at) >= $4 AND min(entered_at) < $5),
     activity AS (
       SELECT DISTINCT j.cohort, j.profile_id, floor(extract(epoch FROM (e.timestamp - j.cohort)) / 604800)::int AS k
       FROM joined j JOIN events e ON e.workspace_id = $1 AND e.profile_id = j.profile_id
       WHERE e.name = ANY($3::text[]) AND e.timestamp >= j.cohort AND e.timestamp < j.cohort + $6 * interval '1 week')
     SELECT c.cohort, c.members, coalesce(jsonb_object_agg(a.k, a.n) FILTER (WHERE a.k IS NOT NULL), '{}') AS retained
     FROM (SELECT cohort, count(*) AS members FROM joined GROUP BY cohort) c
     LEFT JOIN (SELECT cohort, k, count(*) AS n FROM activity GROUP BY cohort, k) a ON a.cohort = c.cohort
     GROUP BY c.cohort, c.members ORDER BY c.cohort`,
    [ws, joinStage, activityEvents, from.toISOString(), to.toISOString(), weeks],
  )
  return rows.map((r) => {
    const byWeek = (typeof r['retained'] === 'string' ? JSON.parse(r['retained']) : r['retained']) as Record<
      string,
      number
    >
    return {
      cohort: new Date(r['cohort'] as string),
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
