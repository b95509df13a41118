import { afterAll, beforeAll, expect, it } from 'vitest'
import { FakeClock, systemClock } from '../../src/domain/clock.ts'
import { partitionOf } from '../../src/domain/events/partition.ts'
import { silentLogger } from '../../src/log.ts'
import type { ProcessorHook } from '../../src/runtime/hooks.ts'
import { makeProcessor } from '../../src/runtime/processor.ts'
import { describeEachDriver, openTestDb, type TestDb } from '../helpers/db.ts'
import { pendingCount, profileOf, send } from './helpers.ts'

const waitFor = async (check: () => Promise<boolean>, timeoutMs = 10_000) => {
  const start = Date.now()
  while (!(await check())) {
    if (Date.now() - start > timeoutMs) throw new Error('timed out')
    await new Promise((r) => setTimeout(r, 5))
  }
}

const lease = (db: TestDb, partition: number) =>
  db
    .query<{ lease_owner: string | null; lease_until: Date }>(
      'SELECT lease_owner, lease_until FROM processor_partitions WHERE partition = $1',
      [partition],
    )
    .then((r) => r[0])

describeEachDriver('processor: leases and wake-up', (driver) => {
  let db: TestDb
  beforeAll(async () => {
    db = await openTestDb(driver)
  })
  afterAll(() => db.close())

  it('two workers on one database process every event exactly once', async () => {
    const handled = new Map<number, string[]>()
    const recorder = (worker: string): ProcessorHook => ({
      name: 'recorder',
      async onEvent(ctx) {
        handled.set(ctx.event.seq, [...(handled.get(ctx.event.seq) ?? []), worker])
      },
    })
    const clock = new FakeClock()
    const common = { db, clock, log: silentLogger, batchSize: 5, concurrency: 2 }
    const a = makeProcessor({ ...common, workerId: 'a', hooks: [recorder('a')] })
    const b = makeProcessor({ ...common, workerId: 'b', hooks: [recorder('b')] })
    await Promise.all([a.start(), b.start()])
    const users = Array.from({ length: 20 }, (_, i) => `user-${i}`)
    for (let round = 0; round < 3; round++) {
      await send(db, ...users.flatMap((u) => [{ type: 'track' as const, userId: u, event: 'Tick' }]))
      await send(db, ...users.map((u) => ({ type: 'track' as const, userId: u, event: 'Tock' })))
    }
    await waitFor(async () => (await pendingCount(db)) === 0)
    await Promise.all([a.stop(), b.stop()])

    expect(handled.size).toBe(120)
    expect([...handled.values()].every((w) => w.length === 1)).toBe(true)
    const workers = new Set([...handled.values()].flat())
    expect(workers.size).toBeGreaterThanOrEqual(1)
    for (const u of users) {
      const p = await profileOf(db, 'user_id', u)
      expect([p?.counters.Tick?.count, p?.counters.Tock?.count]).toEqual([3, 3])
    }
    const held = await db.query('SELECT partition FROM processor_partitions WHERE lease_owner IS NOT NULL')
    expect(held).toEqual([])
  })

  it('takes over the partitions of a crashed worker once its lease expires, and respects live leases', async () => {
    const clock = new FakeClock('2026-03-01T10:00:00Z')
    const crashed = partitionOf('default', 'wendy', null)
    const busy = partitionOf('default', 'xavier', null)
    expect(crashed).not.toBe(busy)
    await db.query(
      `UPDATE processor_partitions SET lease_owner = $2, lease_until = $3 WHERE partition = $1`,
      [crashed, 'crashed-worker', '2026-03-01T09:59:59Z'],
    )
    await db.query(
      `UPDATE processor_partitions SET lease_owner = $2, lease_until = $3 WHERE partition = $1`,
      [busy, 'live-worker', '2026-03-01T10:00:30Z'],
    )
    await send(
      db,
      { type: 'track', userId: 'wendy', event: 'Joined' },
      { type: 'track', userId: 'xavier', event: 'Joined' },
    )
    const processor = makeProcessor({ db, clock, log: silentLogger, workerId: 'rescuer' })
    await processor.drain()
    expect((await profileOf(db, 'user_id', 'wendy'))?.counters.Joined?.count).toBe(1)
    expect((await lease(db, crashed))?.lease_owner).toBeNull()
    // The live worker's partition is left alone while its lease runs.
    expect(await profileOf(db, 'user_id', 'xavier')).toBeNull()
    expect((await lease(db, busy))?.lease_owner).toBe('live-worker')

    clock.advance(31_000)
    await processor.drain()
    expect((await profileOf(db, 'user_id', 'xavier'))?.counters.Joined?.count).toBe(1)
    expect((await lease(db, busy))?.lease_owner).toBeNull()
  })

  it('wakes on commit, well before the fallback poll', async () => {
    const processor = makeProcessor({
      db,
      clock: systemClock,
      log: silentLogger,
      workerId: 'w1',
      pollMs: 10_000,
    })
    await processor.start()
    expect(processor.isHealthy()).toBe(true)
    // Let it finish its first (empty) claim and go idle.
    await new Promise((r) => setTimeout(r, 200))
    const started = Date.now()
    await send(db, { type: 'track', userId: 'yara', event: 'Ping' })
    await waitFor(async () => (await pendingCount(db)) === 0, 5_000)
    const latency = Date.now() - started
    expect(latency).toBeLessThan(1_000)
    await processor.stop()
    expect(processor.isHealthy()).toBe(false)
  })

  it('a graceful stop finishes the batch in hand and releases its leases', async () => {
    let release: () => void = () => {}
    const gate = new Promise<void>((r) => {
      release = r
    })
    let entered: () => void = () => {}
    const inHook = new Promise<void>((r) => {
      entered = r
    })
    const slow: ProcessorHook = {
      name: 'slow',
      async onEvent() {
        entered()
        await gate
      },
    }
    const processor = makeProcessor({
      db,
      clock: new FakeClock(),
      log: silentLogger,
      workerId: 'w1',
      hooks: [slow],
    })
    await processor.start()
    await send(db, { type: 'track', userId: 'zoe', event: 'Ping' })
    await inHook
    const stopping = processor.stop()
    release()
    await stopping
    expect(await pendingCount(db)).toBe(0)
    const held = await db.query("SELECT partition FROM processor_partitions WHERE lease_owner = 'w1'")
    expect(held).toEqual([])
  })
})
