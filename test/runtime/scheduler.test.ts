import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest'
import { FakeClock } from '../../src/domain/clock.ts'
import { silentLogger } from '../../src/log.ts'
import { type BatchTimerHandler, makeScheduler, type TimerHandler } from '../../src/runtime/scheduler.ts'
import { cancelTimers, claimDueTimers, type NewTimer, scheduleTimers } from '../../src/store/timers.ts'
import { describeEachDriver, openTestDb, type TestDb } from '../helpers/db.ts'

const P1 = randomUUID()
const P2 = randomUUID()
const timer = (profileId: string, timerId: string, fireAt: string): NewTimer => ({
  workspaceId: 'default',
  profileId,
  timerId,
  kind: 'test',
  fireAt: new Date(fireAt),
  payload: { label: timerId },
})

describeEachDriver('scheduler', (driver) => {
  let db: TestDb
  beforeAll(async () => {
    db = await openTestDb(driver)
    await db.exec('CREATE TABLE fired (timer_id text PRIMARY KEY, at timestamptz NOT NULL)')
  })
  afterAll(() => db.close())
  beforeEach(async () => {
    await db.exec('DELETE FROM timers; DELETE FROM fired')
  })

  // The handler's effect is a row written in the timer's own transaction.
  const record: TimerHandler = async (tx, t, now) => {
    await tx.query('INSERT INTO fired (timer_id, at) VALUES ($1, $2)', [t.timerId, now.toISOString()])
  }

  it('fires only the timers that are due, each once, and deletes them', async () => {
    const clock = new FakeClock('2026-03-01T10:00:00Z')
    await scheduleTimers(db, [
      timer(P1, 'a', '2026-03-01T09:59:00Z'),
      timer(P1, 'b', '2026-03-01T10:00:00Z'),
      timer(P2, 'c', '2026-03-01T10:00:01Z'),
    ])
    const s = makeScheduler({ db, clock, log: silentLogger, workerId: 'w1', handlers: { test: record } })
    expect(await s.drain()).toBe(2)
    expect(
      (await db.query<{ timer_id: string }>('SELECT timer_id FROM fired ORDER BY timer_id')).map(
        (r) => r.timer_id,
      ),
    ).toEqual(['a', 'b'])
    clock.advance(1000)
    expect(await s.drain()).toBe(1)
    expect(await s.drain()).toBe(0)
    expect(await db.query('SELECT * FROM timers')).toEqual([])
  })

  it('reschedules a timer with the same id instead of adding a second one, and cancels', async () => {
    const clock = new FakeClock('2026-03-01T10:00:00Z')
    await scheduleTimers(db, [timer(P1, 'x', '2026-03-01T10:00:00Z'), timer(P1, 'y', '2026-03-01T10:00:00Z')])
    await scheduleTimers(db, [timer(P1, 'x', '2026-03-02T10:00:00Z')])
    await cancelTimers(db, [{ workspaceId: 'default', profileId: P1, timerId: 'y' }])
    const s = makeScheduler({ db, clock, log: silentLogger, workerId: 'w1', handlers: { test: record } })
    expect(await s.drain()).toBe(0)
    clock.set('2026-03-02T10:00:00Z')
    expect(await s.drain()).toBe(1)
  })

  it('rolls back a failed handler and retries it later with backoff', async () => {
    const clock = new FakeClock('2026-03-01T10:00:00Z')
    await scheduleTimers(db, [timer(P1, 'flaky', '2026-03-01T10:00:00Z')])
    let calls = 0
    const flaky: TimerHandler = async (tx, t, now) => {
      await record(tx, t, now)
      calls++
      if (calls === 1) throw new Error('channel down')
    }
    const s = makeScheduler({ db, clock, log: silentLogger, workerId: 'w1', handlers: { test: flaky } })
    expect(await s.drain()).toBe(0)
    const [row] = await db.query<{ attempts: number; last_error: string; fire_at: Date }>(
      'SELECT attempts, last_error, fire_at FROM timers',
    )
    expect(row).toMatchObject({ attempts: 1, last_error: 'channel down' })
    expect(row?.fire_at.toISOString()).toBe('2026-03-01T10:00:02.000Z')
    expect(await db.query('SELECT * FROM fired')).toEqual([])
    clock.advance(2000)
    expect(await s.drain()).toBe(1)
    expect(await db.query('SELECT timer_id FROM fired')).toEqual([{ timer_id: 'flaky' }])
  })

  it('in a chunk, rolls back only the failing timer', async () => {
    const clock = new FakeClock('2026-03-01T10:00:00Z')
    await scheduleTimers(db, [
      timer(P1, 'ok1', '2026-03-01T09:00:00Z'),
      timer(P1, 'bad', '2026-03-01T09:01:00Z'),
      timer(P2, 'ok2', '2026-03-01T09:02:00Z'),
    ])
    const picky: TimerHandler = async (tx, t, now) => {
      await record(tx, t, now)
      if (t.timerId === 'bad') throw new Error('template error')
    }
    const s = makeScheduler({ db, clock, log: silentLogger, workerId: 'w1', handlers: { test: picky } })
    expect(await s.drain()).toBe(2)
    expect(
      (await db.query<{ timer_id: string }>('SELECT timer_id FROM fired ORDER BY timer_id')).map(
        (r) => r.timer_id,
      ),
    ).toEqual(['ok1', 'ok2'])
    expect(await db.query('SELECT timer_id, attempts, last_error FROM timers')).toEqual([
      { timer_id: 'bad', attempts: 1, last_error: 'template error' },
    ])
  })

  // A batch handler writes the whole chunk in one statement, as the journey runtime does;
  // it fails as a whole when one of its timers is bad.
  const batchRecord =
    (calls: string[][], bad = new Set<string>()): BatchTimerHandler =>
    async (tx, timers, now) => {
      calls.push(timers.map((t) => t.timerId))
      await tx.query(`INSERT INTO fired (timer_id, at) SELECT id, $2 FROM unnest($1::text[]) AS id`, [
        timers.map((t) => t.timerId),
        now.toISOString(),
      ])
      const broken = timers.find((t) => bad.has(t.timerId))
      if (broken) throw new Error(`template of ${broken.timerId} is broken`)
      return timers.map(() => undefined)
    }
  const firedIds = async () =>
    (await db.query<{ timer_id: string }>('SELECT timer_id FROM fired ORDER BY timer_id')).map(
      (r) => r.timer_id,
    )

  it('fires a chunk through the batch handler at once; a profile with several timers goes one by one, in order', async () => {
    const clock = new FakeClock('2026-03-01T10:00:00Z')
    const P3 = randomUUID()
    await scheduleTimers(db, [
      timer(P1, 'p1-first', '2026-03-01T09:00:00Z'),
      timer(P2, 'p2', '2026-03-01T09:01:00Z'),
      timer(P1, 'p1-second', '2026-03-01T09:02:00Z'),
      timer(P3, 'p3', '2026-03-01T09:03:00Z'),
    ])
    const calls: string[][] = []
    const order: string[] = []
    const one: TimerHandler = async (tx, t, now) => {
      order.push(t.timerId)
      await record(tx, t, now)
    }
    const s = makeScheduler({
      db,
      clock,
      log: silentLogger,
      workerId: 'w1',
      handlers: { test: one },
      batchHandlers: { test: batchRecord(calls) },
    })
    expect(await s.drain()).toBe(4)
    expect(calls).toEqual([['p2', 'p3']])
    expect(order).toEqual(['p1-first', 'p1-second'])
    expect(await firedIds()).toEqual(['p1-first', 'p1-second', 'p2', 'p3'])
    expect(await db.query('SELECT * FROM timers')).toEqual([])
  })

  it('when the batch fails, fires the chunk timer by timer: only the bad timer fails, and it alone is retried', async () => {
    const clock = new FakeClock('2026-03-01T10:00:00Z')
    const profiles = Array.from({ length: 5 }, () => randomUUID())
    await scheduleTimers(
      db,
      profiles.map((p, i) => timer(p, `t${i}`, `2026-03-01T09:0${i}:00Z`)),
    )
    const bad = new Set(['t2'])
    const calls: string[][] = []
    const one: TimerHandler = async (tx, t, now) => {
      await record(tx, t, now)
      if (bad.has(t.timerId)) throw new Error(`template of ${t.timerId} is broken`)
    }
    const s = makeScheduler({
      db,
      clock,
      log: silentLogger,
      workerId: 'w1',
      handlers: { test: one },
      batchHandlers: { test: batchRecord(calls, bad) },
    })
    expect(await s.drain()).toBe(4)
    // The batch's writes were rolled back; each good timer's effect is there exactly once.
    expect(await firedIds()).toEqual(['t0', 't1', 't3', 't4'])
    expect(await db.query('SELECT timer_id, attempts, last_error FROM timers')).toEqual([
      { timer_id: 't2', attempts: 1, last_error: 'template of t2 is broken' },
    ])
    // Fixed before its retry: it fires alone (a chunk of one takes the careful path).
    bad.clear()
    clock.advance(2000)
    expect(await s.drain()).toBe(1)
    expect(await firedIds()).toEqual(['t0', 't1', 't2', 't3', 't4'])
    expect(calls).toEqual([['t0', 't1', 't2', 't3', 't4']])
  })

  it('a timer that keeps failing in a batch is dead-lettered for a day, without holding up the others', async () => {
    const clock = new FakeClock('2026-03-01T10:00:00Z')
    await scheduleTimers(db, [timer(P1, 'doomed', '2026-03-01T09:00:00Z')])
    const bad = new Set(['doomed'])
    const one: TimerHandler = async (tx, t, now) => {
      await record(tx, t, now)
      if (bad.has(t.timerId)) throw new Error('always broken')
    }
    const s = makeScheduler({
      db,
      clock,
      log: silentLogger,
      workerId: 'w1',
      handlers: { test: one },
      batchHandlers: { test: batchRecord([], bad) },
    })
    const waits: number[] = []
    for (let attempt = 1; attempt <= 10; attempt++) {
      // Each retry comes due in the same chunk as a fresh, good timer of another profile.
      await scheduleTimers(db, [timer(randomUUID(), `good-${attempt}`, clock.now().toISOString())])
      expect(await s.drain()).toBe(1)
      const [row] = await db.query<{ attempts: number; fire_at: Date }>(
        `SELECT attempts, fire_at FROM timers WHERE timer_id = 'doomed'`,
      )
      expect(row?.attempts).toBe(attempt)
      waits.push(row!.fire_at.getTime() - clock.now().getTime())
      clock.set(row!.fire_at)
    }
    expect(await db.query(`SELECT count(*)::int AS n FROM fired WHERE timer_id LIKE 'good-%'`)).toEqual([
      { n: 10 },
    ])
    // Backoff doubles from 2 s; the tenth failure parks it for a day.
    expect(waits.slice(0, 3)).toEqual([2000, 4000, 8000])
    expect(waits.at(-1)).toBe(24 * 3600_000)
  })

  it('respects a live lease and takes over an expired one', async () => {
    const clock = new FakeClock('2026-03-01T10:00:00Z')
    await scheduleTimers(db, [timer(P1, 'leased', '2026-03-01T10:00:00Z')])
    // A worker claims it, then "dies" without completing.
    const claimed = await claimDueTimers(db, 'dead-worker', clock.now(), 10, 30_000)
    expect(claimed.map((t) => t.timerId)).toEqual(['leased'])
    const s = makeScheduler({ db, clock, log: silentLogger, workerId: 'w2', handlers: { test: record } })
    expect(await s.drain()).toBe(0)
    clock.advance(30_001)
    expect(await s.drain()).toBe(1)
    expect(await db.query('SELECT timer_id FROM fired')).toEqual([{ timer_id: 'leased' }])
  })

  it('wakes up on its own when a timer falls due (real clock)', async () => {
    const clock = { now: () => new Date() }
    const s = makeScheduler({
      db,
      clock,
      log: silentLogger,
      workerId: 'w3',
      handlers: { test: record },
      maxSleepMs: 10_000,
    })
    await s.start()
    try {
      await scheduleTimers(db, [timer(P2, 'soon', new Date(Date.now() + 200).toISOString())])
      const started = Date.now()
      while (Date.now() - started < 5000) {
        if ((await db.query('SELECT 1 FROM fired')).length) break
        await new Promise((r) => setTimeout(r, 20))
      }
      expect(await db.query('SELECT timer_id FROM fired')).toEqual([{ timer_id: 'soon' }])
      // Woken by the timer's own time, not by the 10 s maximum sleep.
      expect(Date.now() - started).toBeLessThan(2000)
    } finally {
      await s.stop()
    }
  })
})
