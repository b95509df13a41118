import { afterAll, beforeAll, expect, it } from 'vitest'
import { FakeClock } from '../../src/domain/clock.ts'
import { silentLogger } from '../../src/log.ts'
import type { HookContext, ProcessorHook } from '../../src/runtime/hooks.ts'
import { makeProcessor } from '../../src/runtime/processor.ts'
import { describeEachDriver, openTestDb, type TestDb } from '../helpers/db.ts'
import { profileOf, send } from './helpers.ts'

type EventRow = {
  message_id: string
  name: string | null
  attempts: number
  processed_at: Date | null
  process_error: string | null
  profile_id: string | null
}

const rows = (db: TestDb, userId: string) =>
  db.query<EventRow>(
    'SELECT message_id, name, attempts, processed_at, process_error, profile_id FROM events WHERE user_id = $1 ORDER BY seq',
    [userId],
  )

describeEachDriver('processor: hooks and failures', (driver) => {
  let db: TestDb
  beforeAll(async () => {
    db = await openTestDb(driver)
  })
  afterAll(() => db.close())

  it('gives hooks the updated profile, counters and a way to append follow-up events', async () => {
    const seen: Array<{ name: string | null; before: unknown; after: unknown; posts: number | null }> = []
    const milestone: ProcessorHook = {
      name: 'milestones',
      async onEvent(ctx: HookContext) {
        const posts = await ctx.counters.get('Post Created')
        seen.push({
          name: ctx.event.name,
          before: ctx.profile.traitsBefore,
          after: ctx.profile.traits,
          posts: posts?.count ?? null,
        })
        if (ctx.event.name === 'Post Created' && posts?.count === 2) {
          await ctx.emit({ event: 'Milestone Reached', properties: { posts: 2 } })
          // The same follow-up twice for one cause is stored once.
          await ctx.emit({ event: 'Milestone Reached', properties: { posts: 2 } })
        }
      },
    }
    const clock = new FakeClock('2026-02-01T12:00:00Z')
    const processor = makeProcessor({ db, clock, log: silentLogger, workerId: 'w1', hooks: [milestone] })
    await send(
      db,
      { type: 'identify', userId: 'vera', traits: { plan: 'free' } },
      { type: 'track', userId: 'vera', event: 'Post Created' },
      { type: 'identify', userId: 'vera', traits: { plan: 'pro' } },
      { type: 'track', userId: 'vera', event: 'Post Created' },
      { type: 'track', userId: 'vera', event: 'Comment Posted' },
    )
    await processor.drain()
    expect(seen).toEqual([
      { name: null, before: {}, after: { plan: 'free' }, posts: null },
      { name: 'Post Created', before: { plan: 'free' }, after: { plan: 'free' }, posts: 1 },
      { name: null, before: { plan: 'free' }, after: { plan: 'pro' }, posts: 1 },
      { name: 'Post Created', before: { plan: 'pro' }, after: { plan: 'pro' }, posts: 2 },
      // The follow-up is itself processed, right after its cause (before the next event
      // of the round), for the same profile.
      { name: 'Milestone Reached', before: { plan: 'pro' }, after: { plan: 'pro' }, posts: 2 },
      { name: 'Comment Posted', before: { plan: 'pro' }, after: { plan: 'pro' }, posts: 2 },
    ])
    const log = await rows(db, 'vera')
    const follow = log.filter((r) => r.name === 'Milestone Reached')
    expect(follow).toHaveLength(1)
    expect(follow[0]?.message_id).toBe(`nudge:milestones:Milestone Reached:${log[3]?.message_id}`)
    const vera = await profileOf(db, 'user_id', 'vera')
    // Written to the log already processed, in the round of its cause.
    expect(follow[0]?.profile_id).toBe(vera?.profileId)
    expect(follow[0]?.processed_at).toEqual(clock.now())
    expect(vera?.counters['Milestone Reached']).toEqual({
      count: 1,
      first: '2026-02-01T12:00:00.000Z',
      last: '2026-02-01T12:00:00.000Z',
    })
  })

  it('lets hooks set traits that later events of the same batch keep', async () => {
    const tagger: ProcessorHook = {
      name: 'tagger',
      async onEvent(ctx) {
        if (ctx.event.name === 'Badge Earned')
          await ctx.updateTraits({ badge: 'helper', timezone: 'Europe/Rome' })
      },
    }
    const seen: unknown[] = []
    const observer: ProcessorHook = {
      name: 'observer',
      async onEvent(ctx) {
        if (ctx.event.name === 'Badge Earned') seen.push(ctx.profile.traits)
      },
    }
    const processor = makeProcessor({
      db,
      clock: new FakeClock(),
      log: silentLogger,
      workerId: 'w1',
      hooks: [tagger, observer],
    })
    await send(
      db,
      { type: 'identify', userId: 'wim', traits: { plan: 'free' } },
      { type: 'track', userId: 'wim', event: 'Badge Earned' },
      { type: 'identify', userId: 'wim', traits: { plan: 'pro' } },
    )
    await processor.drain()
    expect(seen).toEqual([{ plan: 'free', badge: 'helper', timezone: 'Europe/Rome' }])
    const wim = await profileOf(db, 'user_id', 'wim')
    expect(wim?.traits).toEqual({ plan: 'pro', badge: 'helper', timezone: 'Europe/Rome' })
    expect(wim?.timezone).toBe('Europe/Rome')
  })

  it('retries a failing event with backoff, then dead-letters it without blocking the rest', async () => {
    const calls: string[] = []
    const buggy: ProcessorHook = {
      name: 'buggy',
      async onEvent(ctx) {
        calls.push(`${ctx.event.userId}:${ctx.event.name}`)
        if (ctx.event.name === 'Bad Event') {
          // Written before the failure: must be rolled back with it.
          await ctx.emit({ event: 'Should Not Exist' })
          throw new Error('boom: cannot handle this event')
        }
      },
    }
    const clock = new FakeClock('2026-02-02T12:00:00Z')
    const processor = makeProcessor({
      db,
      clock,
      log: silentLogger,
      workerId: 'w1',
      hooks: [buggy],
      maxAttempts: 3,
      retryBaseMs: 1000,
    })
    // 'ola' and 'pia' live in different partitions.
    await send(
      db,
      { type: 'track', userId: 'ola', event: 'Before' },
      { type: 'track', userId: 'ola', event: 'Bad Event' },
      { type: 'track', userId: 'ola', event: 'After' },
      { type: 'track', userId: 'pia', event: 'Elsewhere' },
    )
    await processor.drain()
    let ola = await rows(db, 'ola')
    expect(ola.map((r) => [r.name, r.attempts, r.processed_at !== null])).toEqual([
      ['Before', 0, true],
      ['Bad Event', 1, false],
      // Waits behind the failing event: one profile's events stay in order.
      ['After', 0, false],
    ])
    expect(ola[1]?.process_error).toContain('boom')
    expect((await rows(db, 'pia'))[0]?.processed_at).not.toBeNull()

    // Not due yet: nothing moves.
    await processor.drain()
    expect((await rows(db, 'ola'))[1]?.attempts).toBe(1)

    clock.advance(1000)
    await processor.drain()
    expect((await rows(db, 'ola'))[1]?.attempts).toBe(2)

    clock.advance(3999)
    await processor.drain()
    expect((await rows(db, 'ola'))[1]?.attempts).toBe(2)
    clock.advance(1)
    await processor.drain()

    ola = await rows(db, 'ola')
    expect(ola.map((r) => [r.name, r.attempts, r.processed_at !== null])).toEqual([
      ['Before', 0, true],
      ['Bad Event', 3, true],
      ['After', 0, true],
    ])
    expect(ola[1]?.process_error).toBe('hook buggy: boom: cannot handle this event')
    expect(ola[1]?.profile_id).toBeNull()
    const profile = await profileOf(db, 'user_id', 'ola')
    expect(Object.keys(profile?.counters ?? {}).sort()).toEqual(['After', 'Before'])
    expect(ola[2]?.profile_id).toBe(profile?.profileId)
    expect(calls.filter((c) => c === 'ola:Bad Event')).toHaveLength(3)
    expect(calls.filter((c) => c === 'ola:After')).toHaveLength(1)
    const ghosts = await db.query("SELECT 1 FROM events WHERE name = 'Should Not Exist'")
    expect(ghosts).toHaveLength(0)
  })

  it('a follow-up that fails in its round is left pending and fails on its own; its cause stays applied', async () => {
    const calls: string[] = []
    const chain: ProcessorHook = {
      name: 'chain',
      async onEvent(ctx) {
        calls.push(`${ctx.event.name}`)
        if (ctx.event.name === 'Joined') await ctx.emit({ event: 'Welcomed' })
        if (ctx.event.name === 'Welcomed') {
          await ctx.emit({ event: 'Never Written' })
          throw new Error('the welcome desk is closed')
        }
      },
    }
    const clock = new FakeClock('2026-02-02T15:00:00Z')
    const processor = makeProcessor({
      db,
      clock,
      log: silentLogger,
      workerId: 'w1',
      hooks: [chain],
      maxAttempts: 2,
      retryBaseMs: 1000,
    })
    await send(db, { type: 'track', userId: 'kai', event: 'Joined', messageId: 'kai-joined' })
    await processor.drain()
    let kai = await rows(db, 'kai')
    expect(kai.map((r) => [r.message_id, r.attempts, r.processed_at !== null])).toEqual([
      ['kai-joined', 0, true],
      // Written pending by the rerun of the round, then processed alone: it failed there too.
      ['nudge:chain:Welcomed:kai-joined', 1, false],
    ])
    expect(kai[1]?.process_error).toBe('hook chain: the welcome desk is closed')
    // In the round: Joined, then Welcomed failing; rerun: Joined only; alone: Welcomed.
    expect(calls).toEqual(['Joined', 'Welcomed', 'Joined', 'Welcomed'])

    clock.advance(1000)
    await processor.drain()
    kai = await rows(db, 'kai')
    expect(kai.map((r) => [r.name, r.attempts, r.processed_at !== null, r.profile_id !== null])).toEqual([
      ['Joined', 0, true, true],
      // Dead-lettered after its last attempt; the cause was never applied again.
      ['Welcomed', 2, true, false],
    ])
    expect(calls.filter((c) => c === 'Joined')).toHaveLength(2)
    expect(await db.query("SELECT 1 FROM events WHERE name = 'Never Written'")).toHaveLength(0)
  })

  it('when a gathering hook cannot write its round, reruns the round event by event: only the bad event fails', async () => {
    await db.exec('CREATE TABLE tallies (message_id text PRIMARY KEY, n integer NOT NULL CHECK (n >= 0))')
    // Gathers a row per event and writes the round's rows in one statement, as journeys do.
    const gathered = new WeakMap<object, Array<{ id: string; n: unknown }>>()
    const flushes: number[] = []
    const tally: ProcessorHook = {
      name: 'tally',
      async onEvent(ctx) {
        if (ctx.event.name !== 'Counted') return
        const list = gathered.get(ctx.tx) ?? []
        list.push({ id: ctx.event.messageId, n: (ctx.event.payload['properties'] as { n?: unknown }).n })
        gathered.set(ctx.tx, list)
        await ctx.emit({ event: 'Tallied' })
      },
      async flush(tx) {
        const list = gathered.get(tx) ?? []
        gathered.delete(tx)
        flushes.push(list.length)
        await tx.query(
          'INSERT INTO tallies SELECT x.id, x.n FROM jsonb_to_recordset($1::jsonb) AS x(id text, n int)',
          [JSON.stringify(list)],
        )
      },
    }
    const clock = new FakeClock('2026-02-03T12:00:00Z')
    const processor = makeProcessor({ db, clock, log: silentLogger, workerId: 'w1', hooks: [tally] })
    await send(
      db,
      { type: 'track', userId: 'rob', event: 'Counted', properties: { n: 1 }, messageId: 'rob-1' },
      { type: 'track', userId: 'rob', event: 'Counted', properties: { n: -1 }, messageId: 'rob-bad' },
      { type: 'track', userId: 'sue', event: 'Counted', properties: { n: 2 }, messageId: 'sue-1' },
    )
    await processor.drain()
    // The round's one statement failed; rerun event by event, it stops at the bad event.
    expect(flushes[0]).toBe(3)
    expect(
      (await db.query<{ message_id: string }>('SELECT message_id FROM tallies ORDER BY 1')).map(
        (r) => r.message_id,
      ),
    ).toEqual(['rob-1', 'sue-1'])
    const rob = await rows(db, 'rob')
    expect(rob.map((r) => [r.message_id, r.name, r.attempts, r.processed_at !== null])).toEqual([
      ['rob-1', 'Counted', 0, true],
      ['rob-bad', 'Counted', 1, false],
      // Its follow-up was applied with it, before the failing event.
      ['nudge:tally:Tallied:rob-1', 'Tallied', 0, true],
    ])
    expect(rob[1]?.process_error).toMatch(/^hook tally: .*check constraint/)
    expect((await rows(db, 'sue')).map((r) => [r.name, r.processed_at !== null])).toEqual([
      ['Counted', true],
      ['Tallied', true],
    ])
  })

  it('a hook whose prefetch fails costs no event anything: the round runs again without prefetches', async () => {
    const clock = new FakeClock('2026-02-04T12:00:00Z')
    const starts: Array<{ profiles: number; events: Array<string | null> }> = []
    const applied: string[] = []
    const eager: ProcessorHook = {
      name: 'eager',
      async prefetch(tx, round) {
        // Only kim's rounds (earlier tests may leave retries behind in this database).
        const mine = round.events.filter((e) => e.messageId.startsWith('kim-'))
        if (mine.length > 0) starts.push({ profiles: round.profiles.size, events: mine.map((e) => e.name) })
        await tx.query('SELECT * FROM no_such_table')
      },
      async onEvent(ctx) {
        if (ctx.event.messageId.startsWith('kim-')) applied.push(ctx.event.messageId)
      },
    }
    const processor = makeProcessor({ db, clock, log: silentLogger, workerId: 'w1', hooks: [eager] })
    await send(db, { type: 'identify', userId: 'kim', messageId: 'kim-0' })
    await processor.drain()
    await send(
      db,
      { type: 'track', userId: 'kim', event: 'Liked', messageId: 'kim-1' },
      { type: 'track', userId: 'kim', event: 'Shared', messageId: 'kim-2' },
    )
    await processor.drain()
    // The prefetch saw the round's known profiles and its events, and failed each time.
    // Once: the round run again after the failure prefetches nothing.
    expect(starts.filter((x) => x.events.join() === 'Liked,Shared')).toHaveLength(1)
    expect(starts.every((x) => x.profiles > 0)).toBe(true)
    expect(applied).toEqual(['kim-0', 'kim-1', 'kim-2'])
    expect((await rows(db, 'kim')).map((r) => [r.message_id, r.attempts, r.processed_at !== null])).toEqual([
      ['kim-0', 0, true],
      ['kim-1', 0, true],
      ['kim-2', 0, true],
    ])
  })

  it('dead-letters an event the profile model cannot apply', async () => {
    const processor = makeProcessor({
      db,
      clock: new FakeClock(),
      log: silentLogger,
      workerId: 'w1',
      maxAttempts: 1,
    })
    await send(
      db,
      { type: 'group', userId: 'quinn' },
      { type: 'track', userId: 'quinn', event: 'Still Counted' },
    )
    await processor.drain()
    const quinn = await rows(db, 'quinn')
    expect(quinn.map((r) => [r.processed_at !== null, r.process_error])).toEqual([
      [true, 'A group call needs a groupId'],
      [true, null],
    ])
  })
})
