import { afterAll, beforeAll, expect, it } from 'vitest'
import { FakeClock } from '../../src/domain/clock.ts'
import { silentLogger } from '../../src/log.ts'
import { makeProcessor, type Processor } from '../../src/runtime/processor.ts'
import { describeEachDriver, openTestDb, type TestDb } from '../helpers/db.ts'
import { liveProfileCount, pendingCount, profileOf, send } from './helpers.ts'

describeEachDriver('processor: profiles', (driver) => {
  let db: TestDb
  let processor: Processor
  beforeAll(async () => {
    db = await openTestDb(driver)
    processor = makeProcessor({ db, clock: new FakeClock(), log: silentLogger, workerId: 'w1' })
  })
  afterAll(() => db.close())

  it('identify then tracks make one profile with merged traits and counters', async () => {
    const before = await liveProfileCount(db)
    await send(
      db,
      {
        type: 'identify',
        userId: 'ann',
        traits: { email: 'ann@example.com', plan: 'free', nickname: 'annie' },
      },
      { type: 'track', userId: 'ann', event: 'Post Created', timestamp: '2026-01-05T10:00:00Z' },
      { type: 'track', userId: 'ann', event: 'Post Created', timestamp: '2026-01-06T10:00:00Z' },
      { type: 'page', userId: 'ann', name: 'Pricing', timestamp: '2026-01-06T11:00:00Z' },
      { type: 'screen', userId: 'ann', name: 'Home', timestamp: '2026-01-06T11:30:00Z' },
      {
        type: 'identify',
        userId: 'ann',
        traits: { plan: 'pro', nickname: null },
        timestamp: '2026-01-07T08:00:00Z',
      },
    )
    await processor.drain()
    expect(await pendingCount(db)).toBe(0)
    expect(await liveProfileCount(db)).toBe(before + 1)
    const ann = await profileOf(db, 'user_id', 'ann')
    // Later identify wins per key; null clears a trait; untouched keys stay.
    expect(ann?.traits).toEqual({ email: 'ann@example.com', plan: 'pro' })
    expect(ann?.userId).toBe('ann')
    expect(ann?.counters).toEqual({
      'Post Created': { count: 2, first: '2026-01-05T10:00:00.000Z', last: '2026-01-06T10:00:00.000Z' },
      'Page Viewed': { count: 1, first: '2026-01-06T11:00:00.000Z', last: '2026-01-06T11:00:00.000Z' },
      'Screen Viewed': { count: 1, first: '2026-01-06T11:30:00.000Z', last: '2026-01-06T11:30:00.000Z' },
    })
    expect(ann?.firstSeenAt).toBe('2026-01-05T09:00:00.000Z')
    expect(ann?.lastSeenAt).toBe('2026-01-07T08:00:00.000Z')
    const events = await db.query<{ profile_id: string }>(
      "SELECT DISTINCT profile_id FROM events WHERE user_id = 'ann'",
    )
    expect(events.map((e) => e.profile_id)).toEqual([ann?.profileId])
  })

  it('merges anonymous history into the identified profile on identify', async () => {
    await send(
      db,
      { type: 'page', anonymousId: 'anon-b', name: 'Home', timestamp: '2026-01-01T09:00:00Z' },
      { type: 'track', anonymousId: 'anon-b', event: 'Signup Started', timestamp: '2026-01-01T09:01:00Z' },
      { type: 'group', anonymousId: 'anon-b', groupId: 'photo-club', timestamp: '2026-01-01T09:01:30Z' },
      {
        type: 'identify',
        anonymousId: 'anon-b',
        traits: { plan: 'trial', source: 'ad' },
        timestamp: '2026-01-01T09:02:00Z',
      },
    )
    await processor.drain()
    // Bob already has a profile from another device before the link happens.
    await send(
      db,
      {
        type: 'identify',
        userId: 'bob',
        traits: { plan: 'pro', email: 'bob@example.com' },
        timestamp: '2026-01-02T09:00:00Z',
      },
      { type: 'page', userId: 'bob', name: 'Home', timestamp: '2026-01-03T09:00:00Z' },
    )
    await processor.drain()
    const before = await liveProfileCount(db)
    await send(db, {
      type: 'identify',
      userId: 'bob',
      anonymousId: 'anon-b',
      timestamp: '2026-01-04T09:00:00Z',
    })
    await processor.drain()
    expect(await liveProfileCount(db)).toBe(before - 1)

    const bob = await profileOf(db, 'user_id', 'bob')
    expect(await profileOf(db, 'anonymous_id', 'anon-b')).toEqual(bob)
    expect(bob?.identities).toEqual(['anonymous_id:anon-b', 'user_id:bob'])
    // The identified profile's values win; the anonymous one's extra traits are kept.
    expect(bob?.traits).toEqual({ plan: 'pro', email: 'bob@example.com', source: 'ad' })
    expect(bob?.counters['Page Viewed']).toEqual({
      count: 2,
      first: '2026-01-01T09:00:00.000Z',
      last: '2026-01-03T09:00:00.000Z',
    })
    expect(bob?.counters['Signup Started']?.count).toBe(1)
    expect(bob?.groups).toEqual(['photo-club'])
    expect(bob?.firstSeenAt).toBe('2026-01-01T09:00:00.000Z')
    const timeline = await db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM events WHERE profile_id = $1',
      [bob?.profileId],
    )
    expect(timeline[0]?.n).toBe(7)
    const absorbed = await db.query<{ merged_into: string }>(
      'SELECT merged_into FROM profiles WHERE merged_into IS NOT NULL AND profile_id <> $1',
      [bob?.profileId],
    )
    expect(absorbed.map((r) => r.merged_into)).toContain(bob?.profileId)

    // Later anonymous-only events from that device land on Bob.
    await send(db, {
      type: 'track',
      anonymousId: 'anon-b',
      event: 'Signup Started',
      timestamp: '2026-01-05T09:00:00Z',
    })
    await processor.drain()
    expect((await profileOf(db, 'user_id', 'bob'))?.counters['Signup Started']?.count).toBe(2)
  })

  it('links a new userId to the anonymous profile without creating another', async () => {
    await send(
      db,
      { type: 'track', anonymousId: 'anon-c', event: 'Viewed Forum' },
      { type: 'identify', userId: 'cleo', anonymousId: 'anon-c', traits: { email: 'cleo@example.com' } },
    )
    await processor.drain()
    const cleo = await profileOf(db, 'user_id', 'cleo')
    expect(cleo?.identities).toEqual(['anonymous_id:anon-c', 'user_id:cleo'])
    expect(cleo?.counters['Viewed Forum']?.count).toBe(1)
    expect(cleo?.traits).toEqual({ email: 'cleo@example.com' })
  })

  it('never merges two known users sharing a device', async () => {
    await send(
      db,
      { type: 'identify', userId: 'dan', anonymousId: 'shared-tablet', traits: { name: 'Dan' } },
      { type: 'identify', userId: 'eve', anonymousId: 'shared-tablet', traits: { name: 'Eve' } },
    )
    await processor.drain()
    const dan = await profileOf(db, 'user_id', 'dan')
    const eve = await profileOf(db, 'user_id', 'eve')
    expect(dan?.traits).toEqual({ name: 'Dan' })
    expect(eve?.traits).toEqual({ name: 'Eve' })
    expect(eve?.profileId).not.toBe(dan?.profileId)
  })

  it('alias merges previousId into userId', async () => {
    await send(
      db,
      { type: 'identify', userId: 'old-frank', traits: { name: 'Frank', city: 'Lyon' } },
      { type: 'track', userId: 'old-frank', event: 'Comment Posted', timestamp: '2026-01-02T09:00:00Z' },
      { type: 'identify', userId: 'frank@new', traits: { name: 'Franck' } },
      { type: 'track', userId: 'frank@new', event: 'Comment Posted', timestamp: '2026-01-03T09:00:00Z' },
    )
    await processor.drain()
    await send(db, { type: 'alias', userId: 'frank@new', previousId: 'old-frank' })
    await processor.drain()
    const frank = await profileOf(db, 'user_id', 'frank@new')
    expect(await profileOf(db, 'user_id', 'old-frank')).toEqual(frank)
    expect(frank?.userId).toBe('frank@new')
    expect(frank?.traits).toEqual({ name: 'Franck', city: 'Lyon' })
    expect(frank?.counters['Comment Posted']).toEqual({
      count: 2,
      first: '2026-01-02T09:00:00.000Z',
      last: '2026-01-03T09:00:00.000Z',
    })

    // Alias from an anonymousId to a userId nobody has seen yet identifies that profile.
    await send(
      db,
      { type: 'track', anonymousId: 'anon-g', event: 'Viewed Forum' },
      { type: 'alias', userId: 'gina', previousId: 'anon-g' },
    )
    await processor.drain()
    const gina = await profileOf(db, 'user_id', 'gina')
    expect(gina?.identities).toEqual(['anonymous_id:anon-g', 'user_id:gina'])
    expect(gina?.counters['Viewed Forum']?.count).toBe(1)
  })

  it('keeps groups with their traits and memberships', async () => {
    await send(
      db,
      {
        type: 'group',
        userId: 'hana',
        groupId: 'acme',
        traits: { name: 'Acme', plan: 'team', employees: 10 },
      },
      { type: 'group', userId: 'ivan', groupId: 'acme', traits: { employees: 12, plan: null } },
      { type: 'group', userId: 'hana', groupId: 'beta-testers' },
    )
    await processor.drain()
    const [acme] = await db.query<{ traits: unknown }>("SELECT traits FROM groups WHERE group_id = 'acme'")
    expect(acme?.traits).toEqual({ name: 'Acme', employees: 12 })
    expect((await profileOf(db, 'user_id', 'hana'))?.groups).toEqual(['acme', 'beta-testers'])
    expect((await profileOf(db, 'user_id', 'ivan'))?.groups).toEqual(['acme'])
  })

  it('takes the timezone from a valid trait first, else from the device context', async () => {
    await send(
      db,
      { type: 'track', userId: 'jo', event: 'Opened App', context: { timezone: 'europe/paris' } },
      { type: 'track', userId: 'kim', event: 'Opened App', context: { timezone: '+02:00' } },
      {
        type: 'identify',
        userId: 'lea',
        traits: { timezone: 'America/New_York' },
        context: { timezone: 'Asia/Tokyo' },
      },
      { type: 'track', userId: 'lea', event: 'Opened App', context: { timezone: 'Europe/Berlin' } },
      { type: 'identify', userId: 'max', traits: { timezone: 'Mars/Olympus' } },
    )
    await processor.drain()
    expect((await profileOf(db, 'user_id', 'jo'))?.timezone).toBe('Europe/Paris')
    expect((await profileOf(db, 'user_id', 'kim'))?.timezone).toBeNull()
    expect((await profileOf(db, 'user_id', 'lea'))?.timezone).toBe('America/New_York')
    expect((await profileOf(db, 'user_id', 'max'))?.timezone).toBeNull()
  })

  it('applies one profile’s events in the order they were logged', async () => {
    const specs = Array.from({ length: 30 }, (_, i) => ({
      type: 'identify' as const,
      userId: 'nina',
      traits: { step: i, [`k${i % 3}`]: i },
    }))
    // Several batches (batchSize 7) must still apply them in order.
    const small = makeProcessor({
      db,
      clock: new FakeClock(),
      log: silentLogger,
      workerId: 'w-small',
      batchSize: 7,
    })
    await send(db, ...specs)
    await small.drain()
    expect((await profileOf(db, 'user_id', 'nina'))?.traits).toEqual({ step: 29, k0: 27, k1: 28, k2: 29 })
  })
})
