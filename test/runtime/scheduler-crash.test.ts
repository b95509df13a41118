// Kill -9 a worker in the middle of a batch of due timers: after another worker takes
// over, every timer has fired exactly once.
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { scheduleTimers } from '../../src/store/timers.ts'
import { openTestDb, serverUrl, type TestDb } from '../helpers/db.ts'
import { startWorker } from '../helpers/worker-process.ts'

const workerScript = new URL('../helpers/timer-worker.ts', import.meta.url).pathname

describe.skipIf(!serverUrl)('scheduler crash [pg]', () => {
  let db: TestDb
  beforeAll(async () => {
    db = await openTestDb('pg')
    await db.exec('CREATE TABLE fired (timer_id text NOT NULL, worker text NOT NULL)')
  })
  afterAll(() => db.close())

  it('fires every due timer exactly once across a SIGKILL', async () => {
    const due = new Date(Date.now() - 1000)
    const timers = Array.from({ length: 400 }, (_, i) => ({
      workspaceId: 'default',
      profileId: randomUUID(),
      timerId: `t${i}`,
      kind: 'test',
      fireAt: due,
      payload: {},
    }))
    await scheduleTimers(db, timers)
    const first = await startWorker(workerScript, db, 'victim')
    // Let it get into the batch, then kill it without warning.
    for (;;) {
      const [{ n }] = (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM fired')) as [
        { n: number },
      ]
      if (n >= 40) break
      await new Promise((r) => setTimeout(r, 10))
    }
    first.kill('SIGKILL')
    await new Promise((r) => first.once('exit', r))
    const firedBefore = (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM fired'))[0]!.n
    expect(firedBefore).toBeLessThan(400)
    // Timers it had claimed are leased for 1 s, then the survivor takes them over.
    const second = await startWorker(workerScript, db, 'survivor')
    try {
      const deadline = Date.now() + 20_000
      while (Date.now() < deadline) {
        const left = await db.query('SELECT 1 FROM timers LIMIT 1')
        if (left.length === 0) break
        await new Promise((r) => setTimeout(r, 50))
      }
    } finally {
      second.kill('SIGKILL')
    }
    const rows = await db.query<{ timer_id: string; n: number }>(
      'SELECT timer_id, count(*)::int AS n FROM fired GROUP BY timer_id',
    )
    expect(rows.length).toBe(400)
    expect(rows.filter((r) => r.n !== 1)).toEqual([])
    const survivorFired = await db.query(`SELECT 1 FROM fired WHERE worker = 'survivor'`)
    expect(survivorFired.length).toBe(400 - firedBefore)
  })
})
