// The community reports' rollups (migration 020): per-day stage transitions, first entries
// and weekly cohorts, members' activity, content created. What changes them is gathered
// while a processing round (or a timer, or an admin action) runs and written at its end,
// a few set-based statements for the whole round, in its transaction.
import type { Queryable } from './db.ts'
import { jsonRows } from './json-rows.ts'

export interface GatheredTransition {
  readonly workspaceId: string
  readonly profileId: string
  readonly stage: string
  readonly previousStage: string | null
  readonly direction: 'up' | 'down'
  readonly at: Date
  readonly timeInPreviousMs: number | null
}

/** What one round changed, waiting to be written by writeRollups. */
export interface RollupWrites {
  readonly transitions: GatheredTransition[]
  /** Moments members earned points (last_active_at, active weeks). */
  readonly activity: Array<{ workspaceId: string; profileId: string; at: Date }>
  /** Content created per member (workspace/profile -> count). */
  readonly content: Map<string, { workspaceId: string; profileId: string; n: number }>
}

export function newRollupWrites(): RollupWrites {
  return { transitions: [], activity: [], content: new Map() }
}

export function gatherContent(w: RollupWrites, workspaceId: string, profileId: string, n = 1): void {
  const k = `${workspaceId}/${profileId}`
  const cur = w.content.get(k)
  if (cur) cur.n += n
  else w.content.set(k, { workspaceId, profileId, n })
}

/** Takes what was gathered for these profiles out of `w`, into writes of their own. */
export function takeRollupWrites(
  w: RollupWrites,
  workspaceId: string,
  profileIds: readonly string[],
): RollupWrites {
  const mine = (x: { workspaceId: string; profileId: string }) =>
    x.workspaceId === workspaceId && profileIds.includes(x.profileId)
  const out = newRollupWrites()
  const keep = <T extends { workspaceId: string; profileId: string }>(list: T[], into: T[]) => {
    const rest = list.filter((x) => !mine(x))
    into.push(...list.filter(mine))
    list.splice(0, list.length, ...rest)
  }
  keep(w.transitions, out.transitions)
  keep(w.activity, out.activity)
  for (const [k, c] of w.content)
    if (mine(c)) {
      out.content.set(k, c)
      w.content.delete(k)
    }
  return out
}

/** A profile merged into another: what was gathered for it now belongs to the survivor. */
export function remapRollupWrites(w: RollupWrites, workspaceId: string, from: string, to: string): void {
  for (const [i, t] of w.transitions.entries())
    if (t.workspaceId === workspaceId && t.profileId === from) w.transitions[i] = { ...t, profileId: to }
  for (const a of w.activity) if (a.workspaceId === workspaceId && a.profileId === from) a.profileId = to
  const c = w.content.get(`${workspaceId}/${from}`)
  if (c) {
    w.content.delete(`${workspaceId}/${from}`)
    gatherContent(w, workspaceId, to, c.n)
  }
}

const WEEK = (ts: string) => `(date_trunc('week', ${ts} AT TIME ZONE 'UTC'))::date`

/**
 * Writes the gathered changes and empties `w`. Activity goes first: a member's new active
 * weeks count for the cohorts they had already joined, and a cohort joined in this round
 * then counts all the member's active weeks, this round's included, so each (member,
 * stage, week) is counted once.
 */
export async function writeRollups(q: Queryable, w: RollupWrites): Promise<void> {
  if (w.activity.length) {
    const rows = w.activity.map((a) => ({ w: a.workspaceId, p: a.profileId, at: a.at.toISOString() }))
    w.activity.length = 0
    await q.query(
      `WITH x AS (SELECT w, p, at FROM ${jsonRows('$1', 'w text, p uuid, at timestamptz')}),
       last AS (
         UPDATE profile_scores s SET last_active_at = greatest(s.last_active_at, m.at)
         FROM (SELECT w, p, max(at) AS at FROM x GROUP BY 1, 2) m
         WHERE s.workspace_id = m.w AND s.profile_id = m.p),
       weeks AS (
         INSERT INTO profile_activity_weeks (workspace_id, profile_id, week)
         SELECT DISTINCT w, p, ${WEEK('at')} FROM x ORDER BY 1, 2, 3
         ON CONFLICT DO NOTHING RETURNING workspace_id, profile_id, week)
       INSERT INTO stage_cohort_activity AS r (workspace_id, stage, cohort, week_offset, members)
       SELECT f.workspace_id, f.stage, c.cohort, (n.week - c.cohort) / 7, count(*)
       FROM weeks n
       JOIN profile_stage_firsts f ON f.workspace_id = n.workspace_id AND f.profile_id = n.profile_id
       CROSS JOIN LATERAL (SELECT ${WEEK('f.entered_at')} AS cohort) c
       WHERE n.week >= c.cohort
       GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
       ON CONFLICT (workspace_id, stage, cohort, week_offset) DO UPDATE SET members = r.members + EXCLUDED.members`,
      [JSON.stringify(rows)],
    )
  }
  if (w.transitions.length) {
    const rows = w.transitions.map((t) => ({
      w: t.workspaceId,
      p: t.profileId,
      s: t.stage,
      v: t.previousStage ?? '',
      d: t.direction,
      at: t.at.toISOString(),
      ms: t.timeInPreviousMs,
    }))
    w.transitions.length = 0
    await q.query(
      `WITH x AS (SELECT w, p, s, v, d, at, ms FROM ${jsonRows('$1', 'w text, p uuid, s text, v text, d text, at timestamptz, ms bigint')}),
       daily AS (
         INSERT INTO stage_transitions_daily AS t (workspace_id, day, stage, previous_stage, direction, stay_bucket, transitions)
         SELECT w, (at AT TIME ZONE 'UTC')::date, s, v, d,
           CASE WHEN d = 'up' AND ms > 0 THEN community_stay_bucket(ms) ELSE -1 END, count(*)
         FROM x GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6
         ON CONFLICT (workspace_id, day, stage, previous_stage, direction, stay_bucket)
           DO UPDATE SET transitions = t.transitions + EXCLUDED.transitions),
       firsts AS (
         INSERT INTO profile_stage_firsts (workspace_id, profile_id, stage, entered_at)
         SELECT DISTINCT ON (w, p, s) w, p, s, at FROM x WHERE d = 'up' ORDER BY w, p, s, at
         ON CONFLICT DO NOTHING RETURNING workspace_id, profile_id, stage, ${WEEK('entered_at')} AS cohort),
       sizes AS (
         INSERT INTO stage_cohorts AS c (workspace_id, stage, cohort, members)
         SELECT workspace_id, stage, cohort, count(*) FROM firsts GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
         ON CONFLICT (workspace_id, stage, cohort) DO UPDATE SET members = c.members + EXCLUDED.members)
       INSERT INTO stage_cohort_activity AS r (workspace_id, stage, cohort, week_offset, members)
       SELECT f.workspace_id, f.stage, f.cohort, (a.week - f.cohort) / 7, count(*)
       FROM firsts f
       JOIN profile_activity_weeks a ON a.workspace_id = f.workspace_id AND a.profile_id = f.profile_id
         AND a.week >= f.cohort
       GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
       ON CONFLICT (workspace_id, stage, cohort, week_offset) DO UPDATE SET members = r.members + EXCLUDED.members`,
      [JSON.stringify(rows)],
    )
  }
  if (w.content.size) {
    const rows = [...w.content.values()].map((c) => ({ w: c.workspaceId, p: c.profileId, n: c.n }))
    w.content.clear()
    await q.query(
      `INSERT INTO profile_content_counts AS c (workspace_id, profile_id, created)
       SELECT w, p, n FROM jsonb_to_recordset($1::jsonb) AS x(w text, p uuid, n bigint) ORDER BY 1, 2
       ON CONFLICT (workspace_id, profile_id) DO UPDATE SET created = c.created + EXCLUDED.created`,
      [JSON.stringify(rows)],
    )
  }
}
