// The reports' rollups against the raw rows they summarise: a generated community (moves
// up and down, several stages crossed at once, activity before and after joining, written
// in rounds of varying size) must give rollups equal to the aggregates of the history and
// activity, and reports equal to the same reports computed straight from the raw rows, for
// periods that start and end mid-day and mid-week.
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { compileStages } from '../../src/domain/community/stage-config.ts'
import { DEFAULT_STAGE_CONFIG } from '../../src/domain/community/stage-defaults.ts'
import { moveStage } from '../../src/domain/community/stage-progress.ts'
import { DAY } from '../../src/domain/conditions/duration.ts'
import { loadStageState, saveStageOutcome } from '../../src/store/community.ts'
import {
  stageConversion,
  stageDistribution,
  stageDistributionSeries,
  weeklyCohorts,
} from '../../src/store/community-reports.ts'
import { newRollupWrites, writeRollups } from '../../src/store/community-rollups.ts'
import type { Queryable } from '../../src/store/db.ts'
import { describeEachDriver, openTestDb, type TestDb } from '../helpers/db.ts'

const stages = compileStages(DEFAULT_STAGE_CONFIG)
const WS = 'ws_rollups'
const t0 = Date.parse('2026-01-05T00:00:00Z') // a Monday
const HOUR = 3_600_000

/** A small deterministic generator (mulberry32), so a failure can be replayed. */
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

// The reports as they were computed from the raw rows before the rollups existed.
async function rawConversion(q: Queryable, from: Date, to: Date) {
  return q.query(
    `WITH h AS (
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
     SELECT s.stage, coalesce(e.entered, 0)::int AS entered, coalesce(x.promoted, 0)::int AS promoted,
       coalesce(x.demoted, 0)::int AS demoted, x.median_ms
     FROM unnest($2::text[]) WITH ORDINALITY AS s(stage, ord)
     LEFT JOIN entries e ON e.stage = s.stage LEFT JOIN exits x ON x.stage = s.stage
     ORDER BY s.ord`,
    [WS, stages.ids, from.toISOString(), to.toISOString()],
  )
}

async function rawDistribution(q: Queryable, at: Date) {
  const rows = await q.query<{ members: number }>(
    `WITH now_ AS (SELECT stage, count(*) AS n FROM profile_stages WHERE workspace_id = $1 GROUP BY stage),
     since AS (SELECT stage, previous_stage FROM profile_stage_history WHERE workspace_id = $1 AND entered_at > $3),
     delta AS (
       SELECT stage, -count(*) AS n FROM since GROUP BY 1
       UNION ALL SELECT previous_stage, count(*) FROM since WHERE previous_stage IS NOT NULL GROUP BY 1)
     SELECT (coalesce((SELECT n FROM now_ WHERE now_.stage = s.stage), 0)
       + coalesce((SELECT sum(n) FROM delta WHERE delta.stage = s.stage), 0))::int AS members
     FROM unnest($2::text[]) WITH ORDINALITY AS s(stage, ord) ORDER BY s.ord`,
    [WS, stages.ids, at.toISOString()],
  )
  return rows.map((r) => r.members)
}

async function rawCohorts(q: Queryable, from: Date, to: Date, weeks: number) {
  return q.query<{ cohort: string; members: number; retained: number[] }>(
    `WITH joined AS (
       SELECT h.profile_id, (date_trunc('week', h.entered_at AT TIME ZONE 'UTC'))::date AS cohort
       FROM profile_stage_history h
       WHERE h.workspace_id = $1 AND h.entered_at >= $3 AND h.entered_at < $4 AND h.stage = $2 AND h.direction = 'up'
         AND NOT EXISTS (SELECT 1 FROM profile_stage_history e WHERE e.workspace_id = h.workspace_id
           AND e.profile_id = h.profile_id AND e.seq < h.seq AND e.stage = $2 AND e.direction = 'up'))
     SELECT to_char(j.cohort, 'YYYY-MM-DD') AS cohort, count(*)::int AS members,
       array(SELECT (SELECT count(*)::int FROM joined j2 JOIN profile_activity_weeks a
           ON a.workspace_id = $1 AND a.profile_id = j2.profile_id AND a.week = j2.cohort + k * 7
           WHERE j2.cohort = j.cohort) FROM generate_series(0, $5 - 1) k) AS retained
     FROM joined j GROUP BY j.cohort ORDER BY j.cohort`,
    [WS, 'member', from.toISOString(), to.toISOString(), weeks],
  )
}

describeEachDriver('community report rollups', (driver) => {
  let db: TestDb
  const random = rng(20261201)
  const at = (ms: number) => new Date(t0 + Math.floor(ms))
  beforeAll(async () => {
    db = await openTestDb(driver)
    const members = Array.from({ length: 40 }, () => randomUUID())
    for (const p of members)
      await db.query(
        `INSERT INTO profiles (workspace_id, profile_id, traits, first_seen_at, last_seen_at, created_at, updated_at)
         VALUES ($1, $2, '{}', $3, $3, $3, $3)`,
        [WS, p, new Date(t0).toISOString()],
      )
    // 400 actions over 10 weeks in time order, written in rounds of 1 to 12 actions.
    const actions = Array.from({ length: 400 }, () => ({
      t: random() * 70 * DAY,
      p: members[Math.floor(random() * members.length)]!,
      r: random(),
    })).sort((a, b) => a.t - b.t)
    const writes = newRollupWrites()
    let inRound = 0
    let roundSize = 1
    for (const a of actions) {
      if (a.r < 0.45) {
        const state = await loadStageState(db, WS, a.p)
        const i = state ? stages.index.get(state.stage)! : -1
        // Mostly up (sometimes two or three stages at once), sometimes down.
        const target =
          a.r < 0.08 && i > 0 ? i - 1 : Math.min(stages.ids.length - 1, i + 1 + Math.floor(a.r * 5))
        const out = moveStage(stages, state, stages.ids[target]!, at(a.t), 'test')
        await saveStageOutcome(db, WS, a.p, out, writes)
      } else {
        writes.activity.push({ workspaceId: WS, profileId: a.p, at: at(a.t) })
      }
      if (++inRound >= roundSize) {
        await writeRollups(db, writes)
        inRound = 0
        roundSize = 1 + Math.floor(random() * 12)
      }
    }
    await writeRollups(db, writes)
    // profile_scores rows for last_active_at are not needed here: only cohorts read activity.
  })
  afterAll(async () => db.close())

  it('keeps every rollup equal to the aggregate of the raw rows it summarises', async () => {
    const diff = async (rollup: string, raw: string) =>
      db.query(`((${rollup}) EXCEPT ALL (${raw})) UNION ALL ((${raw}) EXCEPT ALL (${rollup}))`, [WS])
    const history = await db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM profile_stage_history WHERE workspace_id = $1',
      [WS],
    )
    expect(history[0]!.n).toBeGreaterThan(200)
    expect(
      await diff(
        `SELECT day, stage, previous_stage, direction, stay_bucket, transitions FROM stage_transitions_daily WHERE workspace_id = $1`,
        `SELECT (entered_at AT TIME ZONE 'UTC')::date, stage, coalesce(previous_stage, ''), direction,
           CASE WHEN direction = 'up' AND time_in_previous_ms > 0 THEN community_stay_bucket(time_in_previous_ms) ELSE -1 END,
           count(*) FROM profile_stage_history WHERE workspace_id = $1 GROUP BY 1, 2, 3, 4, 5`,
      ),
    ).toEqual([])
    expect(
      await diff(
        'SELECT profile_id, stage, entered_at FROM profile_stage_firsts WHERE workspace_id = $1',
        `SELECT DISTINCT ON (profile_id, stage) profile_id, stage, entered_at FROM profile_stage_history
         WHERE workspace_id = $1 AND direction = 'up' ORDER BY profile_id, stage, seq`,
      ),
    ).toEqual([])
    expect(
      await diff(
        'SELECT stage, cohort, members FROM stage_cohorts WHERE workspace_id = $1 AND members > 0',
        `SELECT stage, (date_trunc('week', entered_at AT TIME ZONE 'UTC'))::date, count(*)
         FROM profile_stage_firsts WHERE workspace_id = $1 GROUP BY 1, 2`,
      ),
    ).toEqual([])
    const activity = `SELECT f.stage, w.c, (a.week - w.c) / 7, count(*) FROM profile_stage_firsts f
      CROSS JOIN LATERAL (SELECT (date_trunc('week', f.entered_at AT TIME ZONE 'UTC'))::date AS c) w
      JOIN profile_activity_weeks a ON a.workspace_id = f.workspace_id AND a.profile_id = f.profile_id AND a.week >= w.c
      WHERE f.workspace_id = $1 GROUP BY 1, 2, 3`
    expect(
      await diff(
        'SELECT stage, cohort, week_offset, members FROM stage_cohort_activity WHERE workspace_id = $1 AND members > 0',
        activity,
      ),
    ).toEqual([])
    // Activity before joining counts too: some cohort has members active in its first week.
    const [first] = await db.query<{ n: number }>(
      `SELECT coalesce(sum(members), 0)::int AS n FROM stage_cohort_activity WHERE workspace_id = $1 AND week_offset = 0`,
      [WS],
    )
    expect(first!.n).toBeGreaterThan(0)
  })

  const periods: Array<[string, number, number]> = [
    ['whole weeks', 0, 70 * DAY],
    ['mid-day to mid-day', 3 * DAY + 5 * HOUR, 40 * DAY + 17 * HOUR],
    ['mid-week to now', 10 * DAY + 1, 71 * DAY],
    ['within one day', 20 * DAY + 2 * HOUR, 20 * DAY + 23 * HOUR],
    ['within one week', 15 * DAY + 7 * HOUR, 18 * DAY],
  ]

  it.each(periods)(
    'gives conversion and exact median stays as the raw history does (%s)',
    async (_, a, b) => {
      const raw = await rawConversion(db, at(a), at(b))
      const got = await stageConversion(db, WS, stages, at(a), at(b))
      expect(got.map((r) => [r.stage, r.entered, r.promoted, r.demoted, r.medianMsBeforePromotion])).toEqual(
        raw.map((r) => [
          r['stage'],
          r['entered'],
          r['promoted'],
          r['demoted'],
          r['median_ms'] === null ? null : Number(r['median_ms']),
        ]),
      )
      if (a === 0) expect(got.filter((r) => r.medianMsBeforePromotion !== null).length).toBeGreaterThan(2)
    },
  )

  it('gives the distribution at past moments as the raw history does', async () => {
    const points = [0.5, 1, 6.25, 13.9, 30, 44.5, 69.99, 80].map((d) => at(d * DAY))
    const series = await stageDistributionSeries(db, WS, stages, points)
    for (const [i, p] of points.entries()) {
      expect(series[i]!.map((s) => s.members)).toEqual(await rawDistribution(db, p))
      expect(await stageDistribution(db, WS, stages, p)).toEqual(series[i])
    }
    expect(series[7]).toEqual(await stageDistribution(db, WS, stages))
  })

  it.each(periods)('gives weekly cohorts and retention as the raw rows do (%s)', async (_, a, b) => {
    const raw = await rawCohorts(db, at(a), at(b), 4)
    const got = await weeklyCohorts(db, WS, 'member', at(a), at(b), 4)
    expect(
      got.map((c) => ({
        cohort: c.cohort.toISOString().slice(0, 10),
        members: c.members,
        retained: c.retained,
      })),
    ).toEqual(raw.map((r) => ({ cohort: r.cohort, members: r.members, retained: r.retained })))
    if (a === 0) expect(got.length).toBeGreaterThan(5)
  })
})
