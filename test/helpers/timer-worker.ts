// A worker process for crash tests: fires `test` timers against a PostgreSQL schema,
// writing one row per firing (with a small delay so a kill lands mid-batch).
import { systemClock } from '../../src/domain/clock.ts'
import { silentLogger } from '../../src/log.ts'
import { makeScheduler } from '../../src/runtime/scheduler.ts'
import { fromPg } from '../../src/store/pg.ts'

const [url, schema, workerId] = process.argv.slice(2)
if (!url || !schema || !workerId) throw new Error('usage: timer-worker <url> <schema> <workerId>')
const db = await fromPg(url, { schema, max: 4 })
const scheduler = makeScheduler({
  db,
  clock: systemClock,
  log: silentLogger,
  workerId,
  leaseMs: 1000,
  batchSize: 50,
  concurrency: 2,
  maxSleepMs: 200,
  handlers: {
    test: async (tx, t) => {
      await tx.query('INSERT INTO fired (timer_id, worker) VALUES ($1, $2)', [t.timerId, workerId])
      await new Promise((r) => setTimeout(r, 5))
    },
  },
})
await scheduler.start()
process.send?.('started')
