// Messaging metrics at scale: fills a workspace's message log with BENCH_MESSAGES messages
// (default 1,000,000) over 90 days, from 20 journeys of 3 send steps on email and push,
// with their opens, clicks (some by bots), bounces, conversions and unsubscribes, then
// times each view of docs/metrics.md over the last 30 days. The rows are written by
// set-based SQL straight into the message log and the engagements: this measures the views.
// Usage: npm run bench:metrics  (BENCH_DATABASE_URL, default local PostgreSQL)

import { channelMetrics, journeyMetrics, templateMetrics } from '../src/store/metrics.ts'
import { freshSchema } from './fresh-schema.ts'

const url = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const messages = Number(process.env.BENCH_MESSAGES ?? 1_000_000)
const WS = 'default'
const DAY = 86_400_000
const now = new Date(Math.floor(Date.now() / DAY) * DAY)
const period = { since: new Date(now.getTime() - 30 * DAY), until: now }

const bench = await freshSchema(url, 'bench_metrics')
const { db } = bench
const step = bench.fill

try {
  const started = performance.now()
  console.log(`metrics bench: ${messages} messages over 90 days, now = ${now.toISOString()}`)
  // Per message: journey j (0-19), step s (0-2), push for one step in three, and its fate.
  await step(
    'messages',
    `INSERT INTO messages (workspace_id, profile_id, message_id, journey_id, run_id, step_id, channel, template,
       status, not_before, created_at, updated_at, sent_at, opened_at, clicked_at, converted_at, unsubscribed_at)
     SELECT $1, lpad(to_hex(g % 200000), 32, '0')::uuid, 'm' || g, 'journey-' || (g % 20), 'run-' || (g / 3),
       'step-' || (g % 3), CASE WHEN g % 3 = 2 THEN 'push' ELSE 'email' END, 'template-' || (g % 20) || '-' || (g % 3),
       CASE WHEN r < 0.02 THEN 'bounced' WHEN r < 0.05 THEN 'capped' WHEN r < 0.08 THEN 'clicked'
            WHEN r < 0.30 THEN 'opened' ELSE 'sent' END,
       at, at, at,
       CASE WHEN r >= 0.05 THEN at END,
       CASE WHEN r >= 0.05 AND r < 0.30 THEN at + interval '1 hour' END,
       CASE WHEN r >= 0.05 AND r < 0.08 THEN at + interval '2 hours' END,
       CASE WHEN r >= 0.05 AND r < 0.06 THEN at + interval '1 day' END,
       CASE WHEN r >= 0.30 AND r < 0.305 THEN at + interval '3 hours' END
     FROM (SELECT g, random() AS r, $2::timestamptz - random() * interval '90 days' AS at
           FROM generate_series(1, $3) g) x`,
    [WS, now.toISOString(), messages],
  )
  await step(
    'engagements',
    `INSERT INTO message_engagements (workspace_id, profile_id, message_id, kind, url, bot, bot_reason, first_at, last_at)
     SELECT workspace_id, profile_id, message_id, 'open', '', false, NULL, opened_at, opened_at
     FROM messages WHERE opened_at IS NOT NULL
     UNION ALL
     SELECT workspace_id, profile_id, message_id, 'click', 'https://example.org/', false, NULL, clicked_at, clicked_at
     FROM messages WHERE clicked_at IS NOT NULL
     UNION ALL
     SELECT workspace_id, profile_id, message_id, kind, '', true, 'user agent: scanner', sent_at, sent_at
     FROM messages, (VALUES ('open'), ('click')) k(kind)
     WHERE sent_at IS NOT NULL AND hashtext(message_id) % 10 = 0`,
  )
  await db.exec('ANALYZE messages; ANALYZE message_engagements')
  console.log(`  fill: total ${((performance.now() - started) / 1000).toFixed(0)} s`)

  const views: Array<[string, () => Promise<unknown>]> = [
    ['journey, 30 days', () => journeyMetrics(db, WS, 'journey-7', period)],
    ['template, 30 days', () => templateMetrics(db, WS, 'template-7-1', period)],
    ['channels, 30 days', () => channelMetrics(db, WS, period)],
  ]
  for (const [label, run] of views) await bench.time('view', label, run)
} finally {
  await bench.close()
}
