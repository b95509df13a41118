// Segments kept up to date by the real processor and scheduler on a fake clock:
// memberships follow traits and time, segments built on segments move with them, a new
// segment is backfilled, and a journey starts when a member enters.
import { afterEach, expect, it } from 'vitest'
import { formatIssue, parseJourneyDocument } from '../../src/domain/journeys/parse.ts'
import { parseSegment } from '../../src/domain/segments/schema.ts'
import { BACKFILL_PAGE } from '../../src/runtime/segments/timers.ts'
import { applyJourney } from '../../src/store/journeys.ts'
import { saveSegment } from '../../src/store/segments.ts'
import { seedProfile } from '../admin/helpers.ts'
import { describeEachDriver } from '../helpers/db.ts'
import { makeWorld, type World } from '../helpers/world.ts'
import { send } from '../processor/helpers.ts'

async function defineSegment(world: World, input: unknown): Promise<void> {
  const parsed = parseSegment(input)
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues))
  await world.db.transaction((tx) => saveSegment(tx, 'default', parsed.value, world.clock.now()))
  await world.workers.drain()
}

/** Members of a segment by userId. */
async function members(world: World, segment: string): Promise<string[]> {
  const rows = await world.db.query<{ user_id: string }>(
    `SELECT p.user_id FROM segment_members m JOIN profiles p USING (workspace_id, profile_id)
     WHERE m.segment_id = $1 ORDER BY p.user_id`,
    [segment],
  )
  return rows.map((r) => r.user_id)
}

/** Segment Entered / Exited events in the log: "user Segment Entered segment ISO-time". */
async function transitions(world: World): Promise<string[]> {
  const rows = await world.db.query<{ user_id: string; name: string; segment: string; timestamp: Date }>(
    `SELECT user_id, name, payload -> 'properties' ->> 'segment' AS segment, timestamp FROM events
     WHERE name IN ('Segment Entered', 'Segment Exited') ORDER BY seq`,
  )
  return rows.map((r) => `${r.user_id} ${r.name} ${r.segment} ${r.timestamp.toISOString()}`)
}

const pro = {
  id: 'pro',
  name: 'Pro plan',
  condition: { type: 'trait', path: 'plan', op: 'eq', value: 'pro' },
}
const inactive = {
  id: 'inactive-30d',
  name: 'Inactive for 30 days',
  condition: { type: 'not', condition: { type: 'last_seen', op: 'within_last', value: '30d' } },
}

describeEachDriver('segments at run time', (driver) => {
  let world: World
  afterEach(() => world.close())

  it('enters on a trait change and exits on another, with events naming the segment', async () => {
    world = await makeWorld(driver, '2026-03-02T10:00:00Z')
    await defineSegment(world, pro)
    await world.identify('ann', { plan: 'free' })
    expect(await members(world, 'pro')).toEqual([])
    world.clock.set('2026-03-03T10:00:00Z')
    await world.identify('ann', { plan: 'pro' })
    expect(await members(world, 'pro')).toEqual(['ann'])
    world.clock.set('2026-03-04T10:00:00Z')
    await world.identify('ann', { plan: 'free' })
    expect(await members(world, 'pro')).toEqual([])
    expect(await transitions(world)).toEqual([
      'ann Segment Entered pro 2026-03-03T10:00:00.000Z',
      'ann Segment Exited pro 2026-03-04T10:00:00.000Z',
    ])
    const [entered] = await world.db.query<{ properties: unknown }>(
      `SELECT payload -> 'properties' AS properties FROM events WHERE name = 'Segment Entered'`,
    )
    expect(entered?.properties).toEqual({ segment: 'pro', name: 'Pro plan' })
  })

  it('"inactive for 30 days" is entered by a timer exactly when due and exited by the next event', async () => {
    world = await makeWorld(driver, '2026-03-02T10:00:00Z')
    await defineSegment(world, inactive)
    await world.track('ann', 'Post Created')
    world.clock.set('2026-03-10T08:00:00Z')
    await world.track('bob', 'Post Created')
    // One timer per profile, due when its answer can change; nobody is polled.
    const timers = await world.db.query<{ user_id: string; fire_at: Date }>(
      `SELECT p.user_id, t.fire_at FROM timers t JOIN profiles p USING (workspace_id, profile_id)
       WHERE t.kind = 'segment_recheck' ORDER BY p.user_id`,
    )
    expect(timers.map((t) => `${t.user_id} ${t.fire_at.toISOString()}`)).toEqual([
      'ann 2026-04-01T10:00:00.001Z',
      'bob 2026-04-09T08:00:00.001Z',
    ])
    await world.runUntil('2026-04-01T10:00:00Z')
    expect(await members(world, 'inactive-30d')).toEqual([])
    await world.runUntil('2026-04-05T00:00:00Z')
    expect(await members(world, 'inactive-30d')).toEqual(['ann'])
    await world.track('ann', 'Page Viewed')
    expect(await members(world, 'inactive-30d')).toEqual([])
    await world.runUntil('2026-04-10T00:00:00Z')
    expect(await members(world, 'inactive-30d')).toEqual(['bob'])
    expect(await transitions(world)).toEqual([
      'ann Segment Entered inactive-30d 2026-04-01T10:00:00.001Z',
      'ann Segment Exited inactive-30d 2026-04-05T00:00:00.000Z',
      'bob Segment Entered inactive-30d 2026-04-09T08:00:00.001Z',
    ])
  })

  it('a date trait "within the next 7 days" is entered and left by its timer at the window edges', async () => {
    world = await makeWorld(driver, '2026-03-02T10:00:00Z')
    await defineSegment(world, {
      id: 'renewing-soon',
      name: 'Renewing within a week',
      condition: { type: 'trait', path: 'renewal_at', op: 'within_next', value: '7d' },
    })
    await world.identify('ann', { renewal_at: '2026-03-20T00:00:00Z' })
    await world.identify('bob', { renewal_at: '2026-06-01T00:00:00Z' })
    await world.runUntil('2026-03-25T00:00:00Z')
    expect(await transitions(world)).toEqual([
      'ann Segment Entered renewing-soon 2026-03-13T00:00:00.000Z',
      'ann Segment Exited renewing-soon 2026-03-20T00:00:00.001Z',
    ])
    // Renewed: a new date moves the timer; nothing is left for ann once it passes.
    await world.identify('ann', { renewal_at: '2027-03-20T00:00:00Z' })
    const timers = await world.db.query<{ user_id: string; fire_at: Date }>(
      `SELECT p.user_id, t.fire_at FROM timers t JOIN profiles p USING (workspace_id, profile_id)
       WHERE t.kind = 'segment_recheck' ORDER BY p.user_id`,
    )
    expect(timers.map((t) => `${t.user_id} ${t.fire_at.toISOString()}`)).toEqual([
      'ann 2027-03-13T00:00:00.000Z',
      'bob 2026-05-25T00:00:00.000Z',
    ])
  })

  it('a merge leaves memberships on the surviving profile only, evaluated on its merged traits', async () => {
    world = await makeWorld(driver, '2026-03-02T10:00:00Z')
    await defineSegment(world, pro)
    await world.identify('ann', { plan: 'free' })
    await send(world.db, { type: 'identify', anonymousId: 'anon-1', traits: { plan: 'pro' } })
    await world.workers.drain()
    const before = await world.db.query<{ anonymous: boolean }>(
      `SELECT p.user_id IS NULL AS anonymous FROM segment_members m JOIN profiles p USING (workspace_id, profile_id)`,
    )
    expect(before).toEqual([{ anonymous: true }])
    await send(world.db, { type: 'identify', userId: 'ann', anonymousId: 'anon-1', traits: { plan: 'pro' } })
    await world.workers.drain()
    const after = await world.db.query<{ user_id: string | null; merged: boolean }>(
      `SELECT p.user_id, p.merged_into IS NOT NULL AS merged FROM segment_members m
       JOIN profiles p USING (workspace_id, profile_id)`,
    )
    expect(after).toEqual([{ user_id: 'ann', merged: false }])
  })

  it('moves a segment built on segments in the same pass, in dependency order', async () => {
    world = await makeWorld(driver, '2026-03-02T10:00:00Z')
    await defineSegment(world, pro)
    await defineSegment(world, {
      id: 'engaged',
      name: 'Engaged',
      condition: { type: 'performed', event: 'Post Created', within: '7d', min: 2 },
    })
    await defineSegment(world, {
      id: 'engaged-pro',
      name: 'Engaged pro members',
      condition: {
        type: 'all',
        conditions: [
          { type: 'segment', segment: 'engaged', member: true },
          { type: 'segment', segment: 'pro', member: true },
        ],
      },
    })
    await world.identify('ann', { plan: 'pro' })
    await world.track('ann', 'Post Created')
    expect(await members(world, 'engaged-pro')).toEqual([])
    world.clock.set('2026-03-03T10:00:00Z')
    await world.track('ann', 'Post Created')
    expect(await members(world, 'engaged')).toEqual(['ann'])
    expect(await members(world, 'engaged-pro')).toEqual(['ann'])
    // Time alone ends "engaged" (the first post leaves the 7-day window), and with it engaged-pro.
    await world.runUntil('2026-03-12T00:00:00Z')
    expect(await members(world, 'engaged-pro')).toEqual([])
    expect(await transitions(world)).toEqual([
      'ann Segment Entered pro 2026-03-02T10:00:00.000Z',
      'ann Segment Entered engaged 2026-03-03T10:00:00.000Z',
      'ann Segment Entered engaged-pro 2026-03-03T10:00:00.000Z',
      'ann Segment Exited engaged 2026-03-09T10:00:00.001Z',
      'ann Segment Exited engaged-pro 2026-03-09T10:00:00.001Z',
    ])
  })

  it('backfills a new segment over existing profiles page by page, without announcing them', async () => {
    world = await makeWorld(driver, '2026-03-02T10:00:00Z')
    // More profiles than one backfill page holds; every third one is on the pro plan.
    const users = Array.from({ length: BACKFILL_PAGE + 20 }, (_, i) => `u${String(i).padStart(3, '0')}`)
    for (const [i, userId] of users.entries())
      await seedProfile(world.db, { userId, traits: { plan: i % 3 === 0 ? 'pro' : 'free' } })
    await defineSegment(world, pro)
    const expected = users.filter((_, i) => i % 3 === 0)
    expect(await members(world, 'pro')).toEqual(expected)
    expect(await transitions(world)).toEqual([])
    // Changing the condition recomputes the members; the old backfill's pages are gone.
    await defineSegment(world, {
      ...pro,
      condition: { type: 'trait', path: 'plan', op: 'eq', value: 'free' },
    })
    expect(await members(world, 'pro')).toEqual(users.filter((_, i) => i % 3 !== 0))
    expect(await world.db.query(`SELECT timer_id FROM timers WHERE kind = 'segment_backfill'`)).toEqual([])
    // From then on, changes are events again.
    await world.identify('u000', { plan: 'free' })
    expect(await transitions(world)).toEqual(['u000 Segment Entered pro 2026-03-02T10:00:00.000Z'])
  })

  it('starts a journey with a segment trigger when a member enters', async () => {
    world = await makeWorld(driver, '2026-03-02T10:00:00Z')
    await defineSegment(world, pro)
    const doc = parseJourneyDocument(
      [
        'id: pro-welcome',
        'name: Welcome to pro',
        'trigger: { type: segment, segment: pro, on: entered }',
        'entry: { type: every_time }',
        'steps:',
        '  - { id: mail, type: send, channel: email, template: pro-welcome }',
      ].join('\n'),
      'pro-welcome.yaml',
    )
    if (!doc.ok) throw new Error(doc.errors.map(formatIssue).join('\n'))
    const definition = JSON.parse(JSON.stringify(doc.journey))
    await world.db.transaction((tx) => applyJourney(tx, 'default', definition, { publish: true }))
    world.workers.catalog.invalidate()
    await world.identify('ann', { plan: 'free' })
    await world.identify('bob', { plan: 'free' })
    world.clock.set('2026-03-02T11:00:00Z')
    await world.identify('ann', { plan: 'pro' })
    world.clock.set('2026-03-03T11:00:00Z')
    await world.identify('ann', { plan: 'free' })
    await world.identify('bob', { plan: 'team' })
    world.clock.set('2026-03-04T11:00:00Z')
    await world.identify('ann', { plan: 'pro' })
    expect(await world.sends()).toEqual([
      'ann email:pro-welcome 2026-03-02T11:00:00.000Z',
      'ann email:pro-welcome 2026-03-04T11:00:00.000Z',
    ])
  })
})
