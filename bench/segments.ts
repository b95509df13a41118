// Segments: how fast a new segment is backfilled over existing profiles, and what keeping
// segments up to date costs the processor (the same events with and without segments).
// Usage: npm run bench:segments  (BENCH_DATABASE_URL, default local PostgreSQL)
import { randomUUID } from 'node:crypto'
import { systemClock } from '../src/domain/clock.ts'
import { partitionOf } from '../src/domain/events/partition.ts'
import type { NewEvent } from '../src/domain/events/types.ts'
import { parseSegment } from '../src/domain/segments/schema.ts'
import { makeLogger } from '../src/log.ts'
import { makeProcessor } from '../src/runtime/processor.ts'
import { makeScheduler } from '../src/runtime/scheduler.ts'
import { makeSegmentsHook } from '../src/runtime/segments/hook.ts'
import { segmentTimers } from '../src/runtime/segments/timers.ts'
import type { Db } from '../src/store/db.ts'
import { insertEvents } from '../src/store/events.ts'
import { migrate } from '../src/store/migrate.ts'
import { fromPg } from '../src/store/pg.ts'
import { saveSegment } from '../src/store/segments.ts'
import { ensureDefaultWorkspace } from '../src/store/workspaces.ts'

const url = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const profiles = Number(process.env.BENCH_PROFILES ?? 20_000)
const events = Number(process.env.BENCH_EVENTS ?? 10_000)
const log = makeLogger('warn')

const SEGMENTS = [
  { id: 'pro', name: 'Pro plan', condition: { type: 'trait', path: 'plan', op: 'eq', value: 'pro' } },
  {
    id: 'engaged',
    name: 'Engaged',
    condition: { type: 'performed', event: 'Post Created', within: '7d', min: 3 },
  },
  {
    id: 'inactive-30d',
    name: 'Inactive for 30 days',
    condition: { type: 'not', condition: { type: 'last_seen', op: 'within_last', value: '30d' } },
  },
].map((s) => {
  const p = parseSegment(s)
  if (!p.ok) throw new Error(JSON.stringify(p.issues))
  return p.value
})

async function withSchema(name: string, fn: (db: Db) => Promise<void>): Promise<void> {
  const schema = `bench_segments_${name}_${Date.now()}`
  const admin = await fromPg(url, { max: 1 })
  await admin.exec(`CREATE SCHEMA ${schema}`)
  const db = await fromPg(url, { schema, max: 12 })
  try {
    await migrate(db)
    await ensureDefaultWorkspace(db)
    await db.query(
      `INSERT INTO profiles (workspace_id, profile_id, user_id, traits, first_seen_at, last_seen_at, created_at)
       SELECT 'default', gen_random_uuid(), 'u' || g, jsonb_build_object('plan', CASE WHEN g % 3 = 0 THEN 'pro' ELSE 'free' END),
              now() - interval '60 days', now() - (g % 50 || ' days')::interval, now() - interval '60 days'
       FROM generate_series(1, $1) g`,
      [profiles],
    )
    await db.query(
      `INSERT INTO profile_identities (workspace_id, kind, value, profile_id, first_seen_at)
       SELECT workspace_id, 'user_id', user_id, profile_id, first_seen_at FROM profiles`,
    )
    await db.exec('ANALYZE')
    await fn(db)
  } finally {
    await db.close()
    await admin.exec(`DROP SCHEMA ${schema} CASCADE`)
    await admin.close()
  }
}

function posts(): NewEvent[] {
  const now = new Date()
  return Array.from({ length: events }, (_, i) => {
    const userId = `u${(i % profiles) + 1}`
    return {
      workspaceId: 'default',
      messageId: `bench-${i}`,
      type: 'track',
      name: 'Post Created',
      userId,
      anonymousId: null,
      timestamp: now,
      receivedAt: now,
      partition: partitionOf('default', userId, null),
      payload: { type: 'track', event: 'Post Created', userId, properties: {} },
    }
  })
}

async function processAll(db: Db, withSegments: boolean): Promise<number> {
  const hooks = withSegments ? [makeSegmentsHook()] : []
  const processor = makeProcessor({ db, clock: systemClock, log, hooks, workerId: randomUUID() })
  const batch = posts()
  for (let i = 0; i < batch.length; i += 1000) await insertEvents(db, batch.slice(i, i + 1000))
  const started = performance.now()
  await processor.drain()
  return events / ((performance.now() - started) / 1000)
}

await withSchema('plain', async (db) => {
  const rate = await processAll(db, false)
  console.log(
    `processor without segments: ${events} events over ${profiles} profiles at ${Math.round(rate)} events/s`,
  )
})

await withSchema('segments', async (db) => {
  const scheduler = makeScheduler({
    db,
    clock: systemClock,
    log,
    workerId: randomUUID(),
    handlers: segmentTimers,
  })
  const started = performance.now()
  await db.transaction(async (tx) => {
    for (const s of SEGMENTS) await saveSegment(tx, 'default', s, new Date())
  })
  await scheduler.drain()
  const seconds = (performance.now() - started) / 1000
  const [m] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM segment_members')
  console.log(
    `backfill: ${SEGMENTS.length} segments over ${profiles} profiles in ${seconds.toFixed(2)} s = ${Math.round(
      (profiles * SEGMENTS.length) / seconds,
    )} profile-segments/s (${m?.n} members)`,
  )
  const rate = await processAll(db, true)
  console.log(
    `processor with ${SEGMENTS.length} segments: ${events} events at ${Math.round(rate)} events/s (follow-up Segment Entered/Exited included in the drain)`,
  )
})
