// Timer throughput: fires due timers with 1,000,000 more pending in the future.
// Usage: npm run bench:timers  (BENCH_DATABASE_URL, default local PostgreSQL)
import { randomUUID } from 'node:crypto'
import { systemClock } from '../src/domain/clock.ts'
import { makeLogger } from '../src/log.ts'
import { makeScheduler } from '../src/runtime/scheduler.ts'
import { migrate } from '../src/store/migrate.ts'
import { fromPg } from '../src/store/pg.ts'

const url = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const pending = Number(process.env.BENCH_PENDING ?? 1_000_000)
const due = Number(process.env.BENCH_DUE ?? 50_000)
const schema = `bench_timers_${Date.now()}`

const admin = await fromPg(url, { max: 1 })
await admin.exec(`CREATE SCHEMA ${schema}`)
const db = await fromPg(url, { schema, max: 12 })
try {
  await migrate(db)
  const future = new Date(Date.now() + 30 * 86_400_000).toISOString()
  const past = new Date(Date.now() - 1000).toISOString()
  // Set-based fill: this measures firing, not scheduling.
  await db.query(
    `INSERT INTO timers (workspace_id, profile_id, timer_id, kind, fire_at, payload)
     SELECT 'default', gen_random_uuid(), 't' || g, 'noop', $1::timestamptz + (g || ' seconds')::interval, '{}'
     FROM generate_series(1, $2) g`,
    [future, pending],
  )
  await db.query(
    `INSERT INTO timers (workspace_id, profile_id, timer_id, kind, fire_at, payload)
     SELECT 'default', gen_random_uuid(), 'd' || g, 'noop', $1, '{}' FROM generate_series(1, $2) g`,
    [past, due],
  )
  await db.exec('ANALYZE timers')
  const scheduler = makeScheduler({
    db,
    clock: systemClock,
    log: makeLogger('warn'),
    workerId: randomUUID(),
    handlers: { noop: async () => {} },
  })
  const started = performance.now()
  const fired = await scheduler.drain()
  const seconds = (performance.now() - started) / 1000
  console.log(
    `timers: fired ${fired} due timers in ${seconds.toFixed(2)} s = ${Math.round(fired / seconds)} timers/s with ${pending} pending (chunks of 200 per transaction, no-op handler)`,
  )
} finally {
  await db.close()
  await admin.exec(`DROP SCHEMA ${schema} CASCADE`)
  await admin.close()
}
