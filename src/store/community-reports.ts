// The community reports (docs/community.md): set-based statements over the community
// state tables and their rollups (migration 020), never a loop over members. Periods and
// "now" are parameters.
import type { CompiledStages } from '../domain/community/stage-config.ts'
import type { Queryable } from './db.ts'

const n = (v: unknown) => Number(v ?? 0)

const DAY = 86_400_000
const WEEK = 7 * DAY
const dayOf = (d: Date) => d.toISOString().slice(0, 10)
const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10)

/**
 * A period [from, to) cut into the whole UTC days (or Monday weeks) that a rollup answers
 * for, and the one or two part days at its edges that are read from the raw rows.
 */
function split(from: Date, to: Date, unit: number, offset = 0) {
  const a = from.getTime()
  const b = to.getTime()
  const lo = Math.ceil((a - offset) / unit) * unit + offset
  const hi = Math.floor((b - offset) / unit) * unit + offset
  if (lo >= hi)
    return {
      fullFrom: isoDay(a),
      fullTo: isoDay(a),
      edges: [
        [a, b],
        [b, b],
      ] as const,
    }
  return {
    fullFrom: isoDay(lo),
    fullTo: isoDay(hi),
    edges: [
      [a, lo],
      [hi, b],
    ] as const,
  }
}
// 1970-01-05 was a Monday: weeks start at 4 days + k weeks after the epoch.
const MONDAY = 4 * DAY
const edgeParams = (edges: readonly (readonly [number, number])[]) =>
  edges.flatMap(([x, y]) => [new Date(x).toISOString(), new Date(y).toISOString()])

/** Members per stage now, in funnel order, empty stages included; at a past moment with `at`. */
export async function stageDistribution(q: Queryable, ws: string, stages: CompiledStages, at?: Date) {
  if (at) return (await stageDistributionSeries(q, ws, stages, [at]))[0] ?? []
  const rows = await q.query(
    `WITH now_ AS (SELECT stage, count(*) AS n FROM profile_stages WHERE workspace_id = $1 GROUP BY stage)
     SELECT s.stage, coalesce(now_.n, 0) AS members
     FROM unnest($2::text[]) WITH ORDINALITY AS s(stage, ord) LEFT JOIN now_ ON now_.stage = s.stage
     ORDER BY s.ord`,
    [ws, stages.ids],
  )
  return rows.map((r) => ({ stage: r['stage'] as string, members: n(r['members']) }))
}

/**
 * Members per stage at each moment D of `ats`, in one statement: the count now, minus the
 * entries into the stage since D, plus the exits from it since D (and the members who left
 * the funnel by a merge since D). Moves since D are summed per whole day from
 * stage_transitions_daily, and read from the history only for the rest of D's own day, so
 * the cost follows the number of days, not the number of moves.
 */
export async function stageDistributionSeries(
  q: Queryable,
  ws: string,
  stages: CompiledStages,
  ats: readonly Date[],
): Promise<Array<Array<{ stage: string; members: number }>>> {
  if (ats.length === 0) return []
  const first = new Date(Math.min(...ats.map((d) => d.getTime())))
  const rows = await q.query(
    `WITH pts AS (
       SELECT i, at, (at AT TIME ZONE 'UTC')::date AS d FROM unnest($3::timestamptz[]) WITH ORDINALITY AS p(at, i)),
     now_ AS (SELECT stage, count(*) AS n FROM profile_stages WHERE workspace_id = $1 GROUP BY stage),
     days AS (
       SELECT day, stage, sum(n) AS n FROM (
         SELECT day, stage, -transitions AS n FROM stage_transitions_daily WHERE workspace_id = $1 AND day > $4::date
         UNION ALL
         SELECT day, previous_stage, transitions FROM stage_transitions_daily
         WHERE workspace_id = $1 AND day > $4::date AND previous_stage <> '') u
       GROUP BY 1, 2),
     whole AS (SELECT p.i, d.stage, sum(d.n) AS n FROM pts p JOIN days d ON d.day > p.d GROUP BY 1, 2),
     part AS (
       SELECT p.i, x.stage, sum(x.n) AS n FROM pts p CROSS JOIN LATERAL (
         SELECT h.stage, -1 AS n FROM profile_stage_history h
         WHERE h.workspace_id = $1 AND h.entered_at > p.at AND h.entered_at < ((p.d + 1)::timestamp AT TIME ZONE 'UTC')
         UNION ALL
         SELECT h.previous_stage, 1 FROM profile_stage_history h
         WHERE h.workspace_id = $1 AND h.entered_at > p.at AND h.entered_at < ((p.d + 1)::timestamp AT TIME ZONE 'UTC')
           AND h.previous_stage IS NOT NULL) x
       GROUP BY 1, 2),
     gone AS (
       SELECT p.i, g.stage, count(*) AS n FROM pts p
       JOIN stage_departures g ON g.workspace_id = $1 AND g.left_at > p.at GROUP BY 1, 2)
     SELECT p.i, s.stage, coalesce(now_.n, 0) + coalesce(whole.n, 0) + coalesce(part.n, 0) + coalesce(gone.n, 0) AS members
     FROM pts p CROSS JOIN unnest($2::text[]) WITH ORDINALITY AS s(stage, ord)
     LEFT JOIN now_ ON now_.stage = s.stage
     LEFT JOIN whole ON whole.i = p.i AND whole.stage = s.stage
     LEFT JOIN part ON part.i = p.i AND part.stage = s.stage
     LEFT JOIN gone ON gone.i = p.i AND gone.stage = s.stage
     ORDER BY p.i, s.ord`,
    [ws, stages.ids, ats.map((d) => d.toISOString()), dayOf(first)],
  )
  const out = ats.map(() => [] as Array<{ stage: string; members: number }>)
  for (const r of rows) out[n(r['i']) - 1]?.push({ stage: r['stage'] as string, members: n(r['members']) })
  return out
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

/**
 * Over [from, to): entries per stage, exits up and down per stage left, and the exact median
 * of the real stays before moving up. Two statements over stage_transitions_daily (whole
 * days) and the history (the part days at the edges). The median: the rollup's counts per
 * stay bucket say which bucket holds the middle stay(s) and at which rank; only that
 * bucket's stays are then read (profile_stage_history_stays), sorted, to pick it.
 */
export async function stageConversion(
  q: Queryable,
  ws: string,
  stages: CompiledStages,
  from: Date,
  to: Date,
): Promise<StageConversion[]> {
  const p = split(from, to, DAY)
  const edges = edgeParams(p.edges)
  const counts = await q.query(
    `WITH r AS (
       SELECT stage, previous_stage, direction, sum(transitions) AS n FROM stage_transitions_daily
       WHERE workspace_id = $1 AND day >= $3::date AND day < $4::date GROUP BY 1, 2, 3
       UNION ALL
       SELECT stage, coalesce(previous_stage, ''), direction, count(*) FROM profile_stage_history
       WHERE workspace_id = $1 AND entered_at >= $5 AND entered_at < $6 GROUP BY 1, 2, 3
       UNION ALL
       SELECT stage, coalesce(previous_stage, ''), direction, count(*) FROM profile_stage_history
       WHERE workspace_id = $1 AND entered_at >= $7 AND entered_at < $8 GROUP BY 1, 2, 3),
     entries AS (SELECT stage, sum(n) AS entered FROM r GROUP BY stage),
     exits AS (
       SELECT previous_stage AS stage, sum(n) FILTER (WHERE direction = 'up') AS promoted,
         sum(n) FILTER (WHERE direction = 'down') AS demoted
       FROM r WHERE previous_stage <> '' GROUP BY previous_stage)
     SELECT s.stage, e.entered, x.promoted, x.demoted
     FROM unnest($2::text[]) WITH ORDINALITY AS s(stage, ord)
     LEFT JOIN entries e ON e.stage = s.stage LEFT JOIN exits x ON x.stage = s.stage
     ORDER BY s.ord`,
    [ws, stages.ids, p.fullFrom, p.fullTo, ...edges],
  )
  const medians = await q.query(
    `WITH h AS (
       SELECT previous_stage AS stage, stay_bucket AS b, sum(transitions) AS n FROM stage_transitions_daily
       WHERE workspace_id = $1 AND direction = 'up' AND stay_bucket >= 0 AND day >= $2::date AND day < $3::date
       GROUP BY 1, 2
       UNION ALL
       SELECT previous_stage, community_stay_bucket(time_in_previous_ms), count(*) FROM profile_stage_history
       WHERE workspace_id = $1 AND direction = 'up' AND time_in_previous_ms > 0 AND entered_at >= $4 AND entered_at < $5
       GROUP BY 1, 2
       UNION ALL
       SELECT previous_stage, community_stay_bucket(time_in_previous_ms), count(*) FROM profile_stage_history
       WHERE workspace_id = $1 AND direction = 'up' AND time_in_previous_ms > 0 AND entered_at >= $6 AND entered_at < $7
       GROUP BY 1, 2),
     hb AS (SELECT stage, b, sum(n) AS n FROM h GROUP BY 1, 2 HAVING sum(n) > 0),
     c AS (
       SELECT stage, b, n, sum(n) OVER (PARTITION BY stage ORDER BY b) - n AS below,
         sum(n) OVER (PARTITION BY stage) AS total
       FROM hb),
     ranks AS (
       SELECT DISTINCT t.stage, v.r FROM (SELECT DISTINCT stage, total FROM c) t
       CROSS JOIN LATERAL (VALUES (floor((t.total - 1) / 2)), (ceil((t.total - 1) / 2))) AS v(r)),
     picks AS (
       SELECT k.stage, c.b, (k.r - c.below)::bigint AS off FROM ranks k
       JOIN c ON c.stage = k.stage AND k.r >= c.below AND k.r < c.below + c.n)
     SELECT k.stage, avg((
       SELECT x.time_in_previous_ms FROM profile_stage_history x
       WHERE x.workspace_id = $1 AND x.previous_stage = k.stage AND x.direction = 'up' AND x.time_in_previous_ms > 0
         AND community_stay_bucket(x.time_in_previous_ms) = k.b AND x.entered_at >= $4 AND x.entered_at < $7
       ORDER BY x.time_in_previous_ms OFFSET k.off LIMIT 1)) AS median_ms
     FROM picks k GROUP BY k.stage`,
    [ws, p.fullFrom, p.fullTo, ...edges],
  )
  const median = new Map(medians.map((r) => [r['stage'] as string, r['median_ms']]))
  return counts.map((r) => {
    const entered = n(r['entered'])
    const promoted = n(r['promoted'])
    const m = median.get(r['stage'] as string)
    return {
      stage: r['stage'] as string,
      entered,
      promoted,
      demoted: n(r['demoted']),
      conversion: entered ? promoted / entered : null,
      medianMsBeforePromotion: m === null || m === undefined ? null : n(m),
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

/** Most content created (CONTENT_EVENTS), all time: an index scan of profile_content_counts. */
export async function topByContent(q: Queryable, ws: string, limit = 20) {
  const rows = await q.query(
    `SELECT profile_id, created FROM profile_content_counts
     WHERE workspace_id = $1 AND created > 0 ORDER BY created DESC, profile_id LIMIT $2`,
    [ws, limit],
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
 * `joinStage`, for first entries in [from, to); retained[k] is how many of them earned
 * points during the k-th week after that week's start. Whole weeks come from
 * stage_cohorts and stage_cohort_activity; the part weeks at the period's edges from the
 * first entries (profile_stage_firsts) and profile_activity_weeks.
 */
export async function weeklyCohorts(
  q: Queryable,
  ws: string,
  joinStage: string,
  from: Date,
  to: Date,
  weeks: number,
) {
  const p = split(from, to, WEEK, MONDAY)
  const rows = await q.query(
    `WITH joined AS (
       SELECT profile_id, (date_trunc('week', entered_at AT TIME ZONE 'UTC'))::date AS cohort FROM profile_stage_firsts
       WHERE workspace_id = $1 AND stage = $2 AND entered_at >= $5 AND entered_at < $6
       UNION ALL
       SELECT profile_id, (date_trunc('week', entered_at AT TIME ZONE 'UTC'))::date FROM profile_stage_firsts
       WHERE workspace_id = $1 AND stage = $2 AND entered_at >= $7 AND entered_at < $8),
     sizes AS (
       SELECT cohort, members FROM stage_cohorts
       WHERE workspace_id = $1 AND stage = $2 AND cohort >= $3::date AND cohort < $4::date
       UNION ALL
       SELECT cohort, count(*) FROM joined GROUP BY 1),
     act AS (
       SELECT cohort, week_offset AS k, members AS n FROM stage_cohort_activity
       WHERE workspace_id = $1 AND stage = $2 AND cohort >= $3::date AND cohort < $4::date AND week_offset < $9
       UNION ALL
       SELECT j.cohort, (a.week - j.cohort) / 7, count(*) FROM joined j
       JOIN profile_activity_weeks a ON a.workspace_id = $1 AND a.profile_id = j.profile_id
         AND a.week >= j.cohort AND a.week < j.cohort + $9 * 7
       GROUP BY 1, 2),
     sz AS (SELECT cohort, sum(members) AS members FROM sizes GROUP BY 1 HAVING sum(members) > 0),
     ac AS (SELECT cohort, k, sum(n) AS n FROM act GROUP BY 1, 2)
     SELECT to_char(sz.cohort, 'YYYY-MM-DD') AS cohort, sz.members,
       coalesce(jsonb_object_agg(ac.k, ac.n) FILTER (WHERE ac.k IS NOT NULL), '{}') AS retained
     FROM sz LEFT JOIN ac ON ac.cohort = sz.cohort
     GROUP BY sz.cohort, sz.members ORDER BY sz.cohort`,
    [ws, joinStage, p.fullFrom, p.fullTo, ...edgeParams(p.edges), weeks],
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
