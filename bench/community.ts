// Community reports at scale: fills a workspace with BENCH_PROFILES profiles (default
// 1,000,000) and BENCH_EVENTS events (default 10,000,000) of the shape `nudge demo`
// produces, then times every report of docs/community.md. The bulk is written by
// set-based SQL straight into the tables the processor fills (events, counters, stages,
// stage history, scores, badges, and the reports' rollups), not through ingest: this
// measures the reports.
// Usage: npm run bench:community  (BENCH_DATABASE_URL, default local PostgreSQL)

import { CONTENT_EVENTS } from '../src/domain/community/content.ts'
import { DEFAULT_SCORE_CONFIG } from '../src/domain/community/score-config.ts'
import { compileStages } from '../src/domain/community/stage-config.ts'
import { DEFAULT_STAGE_CONFIG } from '../src/domain/community/stage-defaults.ts'
import { durationMs } from '../src/domain/conditions/duration.ts'
import {
  activeVsInactive,
  badgeReport,
  stageConversion,
  stageDistribution,
  stageDistributionSeries,
  stuckList,
  stuckMembers,
  topByContent,
  topByScore,
  weeklyCohorts,
} from '../src/store/community-reports.ts'
import { freshSchema } from './fresh-schema.ts'

const url = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const profiles = Number(process.env.BENCH_PROFILES ?? 1_000_000)
const events = Number(process.env.BENCH_EVENTS ?? 10_000_000)
const WS = 'default'
const DAY = 86_400_000
const now = new Date(Math.floor(Date.now() / DAY) * DAY)
const stages = compileStages(DEFAULT_STAGE_CONFIG)
const halfLifeMs = durationMs(DEFAULT_SCORE_CONFIG.half_life)

// Event mix per 100 events, as in the demo community: mostly reading and reacting.
const MIX: Array<[string, number]> = [
  ['Page Viewed', 45],
  ['Post Liked', 15],
  ['Post Created', 15],
  ['Topic Created', 5],
  ['Post Flagged', 4],
  ['Event Attended', 4],
  ['Signed Up', 3],
  ['Newsletter Subscribed', 3],
  ['Webinar Registered', 2],
  ['Member Invited', 2],
  ['Content Published', 1],
  ['Event Organized', 1],
]
const activity = Object.entries(DEFAULT_SCORE_CONFIG.points)
  .filter(([, p]) => p > 0)
  .map(([e]) => e)
const names = MIX.flatMap(([n, w]) => Array.from({ length: w }, () => n))

const bench = await freshSchema(url, 'bench_community')
const { db } = bench
const step = bench.fill

try {
  const started = performance.now()
  console.log(`community bench: ${profiles} profiles, ${events} events, now = ${now.toISOString()}`)
  await step(
    'members',
    `CREATE UNLOGGED TABLE bench_members AS
     SELECT g, lpad(to_hex(g), 32, '0')::uuid AS profile_id,
       CASE WHEN r < 0.40 THEN 0 WHEN r < 0.65 THEN 1 WHEN r < 0.85 THEN 2 WHEN r < 0.95 THEN 3 WHEN r < 0.99 THEN 4 ELSE 5 END AS k,
       $2::timestamptz - (random() * 180) * interval '1 day' AS start_at
     FROM (SELECT g, random() AS r FROM generate_series(1, $1) g) x`,
    [profiles, now.toISOString()],
  )
  await step(
    'profiles',
    `INSERT INTO profiles (workspace_id, profile_id, user_id, traits, first_seen_at, last_seen_at, created_at, updated_at)
     SELECT $1, profile_id, 'u' || g, jsonb_build_object('email', 'u' || g || '@example.com'), start_at, $2, start_at, $2
     FROM bench_members`,
    [WS, now.toISOString()],
  )
  const chunk = 1_000_000
  for (let lo = 1; lo <= events; lo += chunk) {
    const hi = Math.min(events, lo + chunk - 1)
    await step(
      `events ${lo}..${hi}`,
      `INSERT INTO events (workspace_id, message_id, type, name, user_id, partition, timestamp, received_at, payload, profile_id, processed_at)
       SELECT $1, 'b' || e, 'track', n, 'u' || p, p % 64, ts, ts,
         jsonb_build_object('type', 'track', 'event', n, 'userId', 'u' || p), lpad(to_hex(p), 32, '0')::uuid, ts
       FROM (SELECT e, 1 + (e * 7919) % $4 AS p, ($5::text[])[1 + (e * 104729) % 100] AS n,
               $6::timestamptz - (random() * 180) * interval '1 day' AS ts
             FROM generate_series($2::bigint, $3::bigint) e) x`,
      [WS, lo, hi, profiles, names, now.toISOString()],
    )
  }
  await step(
    'counters',
    `INSERT INTO profile_event_counters (workspace_id, profile_id, event, count, first_at, last_at)
     SELECT workspace_id, profile_id, name, count(*), min(timestamp), max(timestamp) FROM events GROUP BY 1, 2, 3`,
  )
  // Each member climbed one stage at a time from start_at to now: k + 1 history rows.
  await step(
    'stage history',
    `INSERT INTO profile_stage_history (workspace_id, profile_id, stage, previous_stage, direction, entered_at, time_in_previous_ms)
     SELECT $1, m.profile_id, ($2::text[])[j + 1], CASE WHEN j > 0 THEN ($2::text[])[j] END, 'up',
       m.start_at + j * ($3::timestamptz - m.start_at) / (m.k + 1),
       CASE WHEN j > 0 THEN (extract(epoch FROM ($3::timestamptz - m.start_at)) * 1000 / (m.k + 1))::bigint END
     FROM bench_members m, generate_series(0, m.k) j ORDER BY m.profile_id, j`,
    [WS, stages.ids, now.toISOString()],
  )
  await step(
    'stages',
    `INSERT INTO profile_stages (workspace_id, profile_id, stage, entered_at)
     SELECT $1, profile_id, ($2::text[])[k + 1], start_at + k * ($3::timestamptz - start_at) / (k + 1) FROM bench_members`,
    [WS, stages.ids, now.toISOString()],
  )
  await step(
    'scores',
    `INSERT INTO profile_scores (workspace_id, profile_id, value, at, rank_key)
     SELECT $1, profile_id, v, at, ln(v) / ln(2) + extract(epoch FROM at) * 1000 / $3
     FROM (SELECT profile_id, 1 + power(random(), 3) * 300 AS v, $2::timestamptz - random() * 10 * interval '1 day' AS at
           FROM bench_members WHERE k >= 2) s`,
    [WS, now.toISOString(), halfLifeMs],
  )
  // What the community hook records for events worth points: active weeks, last activity.
  await step(
    'activity weeks',
    `INSERT INTO profile_activity_weeks (workspace_id, profile_id, week)
     SELECT DISTINCT workspace_id, profile_id, (date_trunc('week', timestamp AT TIME ZONE 'UTC'))::date
     FROM events WHERE name = ANY($1::text[])`,
    [activity],
  )
  await step(
    'last activity',
    `UPDATE profile_scores s SET last_active_at = c.last_at
     FROM (SELECT profile_id, max(last_at) AS last_at FROM profile_event_counters
           WHERE workspace_id = $1 AND event = ANY($2::text[]) GROUP BY profile_id) c
     WHERE s.workspace_id = $1 AND s.profile_id = c.profile_id`,
    [WS, activity],
  )
  // The reports' rollups (migration 020), as the community hook keeps them: exactly the
  // aggregates of the rows above.
  await step(
    'transitions per day',
    `INSERT INTO stage_transitions_daily (workspace_id, day, stage, previous_stage, direction, stay_bucket, transitions)
     SELECT workspace_id, (entered_at AT TIME ZONE 'UTC')::date, stage, coalesce(previous_stage, ''), direction,
       CASE WHEN direction = 'up' AND time_in_previous_ms > 0 THEN community_stay_bucket(time_in_previous_ms) ELSE -1 END,
       count(*)
     FROM profile_stage_history GROUP BY 1, 2, 3, 4, 5, 6`,
  )
  await step(
    'first entries',
    `INSERT INTO profile_stage_firsts (workspace_id, profile_id, stage, entered_at)
     SELECT DISTINCT ON (workspace_id, profile_id, stage) workspace_id, profile_id, stage, entered_at
     FROM profile_stage_history WHERE direction = 'up' ORDER BY workspace_id, profile_id, stage, seq`,
  )
  await step(
    'cohorts',
    `INSERT INTO stage_cohorts (workspace_id, stage, cohort, members)
     SELECT workspace_id, stage, (date_trunc('week', entered_at AT TIME ZONE 'UTC'))::date, count(*)
     FROM profile_stage_firsts GROUP BY 1, 2, 3`,
  )
  await step(
    'cohort activity',
    `INSERT INTO stage_cohort_activity (workspace_id, stage, cohort, week_offset, members)
     SELECT f.workspace_id, f.stage, c.cohort, (a.week - c.cohort) / 7, count(*)
     FROM profile_stage_firsts f
     CROSS JOIN LATERAL (SELECT (date_trunc('week', f.entered_at AT TIME ZONE 'UTC'))::date AS cohort) c
     JOIN profile_activity_weeks a ON a.workspace_id = f.workspace_id AND a.profile_id = f.profile_id AND a.week >= c.cohort
     GROUP BY 1, 2, 3, 4`,
  )
  await step(
    'content counts',
    `INSERT INTO profile_content_counts (workspace_id, profile_id, created)
     SELECT workspace_id, profile_id, sum(count) FROM profile_event_counters
     WHERE event = ANY($1::text[]) GROUP BY 1, 2`,
    [CONTENT_EVENTS],
  )
  await step(
    'badges',
    `INSERT INTO profile_badges (workspace_id, profile_id, badge, count, first_awarded_at, last_awarded_at)
     SELECT $1, m.profile_id, b.badge, 1, m.start_at, m.start_at
     FROM bench_members m CROSS JOIN (VALUES ('first_post', 0.8), ('regular', 0.3), ('helper', 0.1)) AS b(badge, p)
     WHERE m.k >= 2 AND random() < b.p`,
    [WS],
  )
  await db.exec('DROP TABLE bench_members')
  await db.exec('VACUUM ANALYZE')
  console.log(`  fill: total ${((performance.now() - started) / 1000).toFixed(0)} s`)

  const reports: Array<[string, () => Promise<unknown>]> = [
    ['stages now', () => stageDistribution(db, WS, stages)],
    ['stages 30 days ago', () => stageDistribution(db, WS, stages, new Date(now.getTime() - 30 * DAY))],
    [
      'stages over 90 days (12)',
      () =>
        stageDistributionSeries(
          db,
          WS,
          stages,
          Array.from({ length: 12 }, (_, i) => new Date(now.getTime() - 90 * DAY + (i * 90 * DAY) / 11)),
        ),
    ],
    ['conversion, 90 days', () => stageConversion(db, WS, stages, new Date(now.getTime() - 90 * DAY), now)],
    ['stuck per stage', () => stuckMembers(db, WS, stages, now)],
    ['stuck list (member, 50)', () => stuckList(db, WS, 'member', stages.stuckAfterMs[2] ?? 0, now, 50)],
    ['active vs inactive, 30 days', () => activeVsInactive(db, WS, stages, 'member', now, 30 * DAY)],
    ['top 20 by score', () => topByScore(db, WS, now, halfLifeMs, 20)],
    ['top 20 by content', () => topByContent(db, WS, 20)],
    [
      'weekly cohorts, 8 weeks',
      () => weeklyCohorts(db, WS, 'member', new Date(now.getTime() - 56 * DAY), now, 8),
    ],
    ['badges', () => badgeReport(db, WS)],
  ]
  let worst = 0
  for (const [label, run] of reports) worst = Math.max(worst, await bench.time('report', label, run))
  console.log(
    `community reports: slowest run ${worst.toFixed(0)} ms (budget 2000 ms) ${worst < 2000 ? 'OK' : 'OVER'}`,
  )
} finally {
  await bench.close()
}
