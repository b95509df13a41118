// A worker process for journey crash tests: the real workers (processor, journeys,
// scheduler) against a PostgreSQL schema, on the system clock, with a short lease.
import { systemClock } from '../../src/domain/clock.ts'
import { silentLogger } from '../../src/log.ts'
import { makeWorkers } from '../../src/runtime/workers.ts'
import { fromPg } from '../../src/store/pg.ts'

const [url, schema, workerId] = process.argv.slice(2)
if (!url || !schema || !workerId) throw new Error('usage: journey-worker <url> <schema> <workerId>')
const db = await fromPg(url, { schema, max: 4 })
const workers = await makeWorkers({
  db,
  clock: systemClock,
  log: silentLogger,
  workerId,
  scheduler: { leaseMs: 1000, batchSize: 100, chunkSize: 10, concurrency: 2, maxSleepMs: 200 },
})
await workers.start()
process.send?.('started')
