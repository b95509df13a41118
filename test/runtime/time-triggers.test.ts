// Date and schedule triggers end to end on a real database and a fake clock: traits set by
// identify, the real processor and scheduler, and the messages queued at the right local time.
import { afterEach, expect, it } from 'vitest'
import { publishVersion, setJourneyStatus } from '../../src/store/journeys.ts'
import { describeEachDriver } from '../helpers/db.ts'
import { makeWorld, type World } from '../helpers/world.ts'
import { publishJourney } from './time-triggers-helpers.ts'

const renewal = {
  id: 'renewal-reminder',
  name: 'Renewal reminder',
  trigger: { type: 'date', trait: 'renewal_at', offset: '-7d', at: '09:00' },
  entry: { type: 'every_time' },
  steps: [{ id: 'remind', type: 'send', channel: 'email', template: 'renewal-reminder' }],
}

const birthday = {
  id: 'birthday',
  name: 'Happy birthday',
  trigger: { type: 'date', trait: 'birthday', repeat: 'yearly', at: '10:00' },
  entry: { type: 'every_time' },
  steps: [{ id: 'wish', type: 'send', channel: 'email', template: 'happy-birthday' }],
}

const weekly = {
  id: 'weekly-digest',
  name: 'Weekly digest',
  trigger: { type: 'schedule', cron: '0 9 * * mon' },
  entry: { type: 'every_time' },
  steps: [{ id: 'digest', type: 'send', channel: 'email', template: 'weekly-digest' }],
}

/** The journeys' timers (the community model keeps timers of its own for stuck members). */
async function timers(world: World) {
  return world.db.query<{ kind: string; fire_at: Date }>(
    "SELECT kind, fire_at FROM timers WHERE kind LIKE 'journey%' ORDER BY fire_at, kind",
  )
}

describeEachDriver('date and schedule triggers', (driver) => {
  let world: World
  afterEach(() => world.close())

  it('renewal_at - 7d at 09:00 in Paris and New York, for members before and after publishing', async () => {
    world = await makeWorld(driver, '2026-03-01T00:00:00Z')
    // Already a member when the journey is published: the backfill finds her.
    await world.identify('cat', { renewal_at: '2026-04-20', timezone: 'Europe/Paris' })
    await publishJourney(world, renewal)
    await world.identify('ann', { renewal_at: '2026-04-20', timezone: 'Europe/Paris' })
    await world.identify('bob', { renewal_at: '2026-04-20', timezone: 'America/New_York' })
    // Renews in two days: the reminder's moment has passed, nothing is sent.
    await world.identify('dan', { renewal_at: '2026-03-03T12:00:00Z' })
    await world.runUntil('2026-05-01T00:00:00Z')
    // 13 April 09:00 local: summer time in both (CEST +2, EDT -4).
    expect(await world.sends()).toEqual([
      'ann email:renewal-reminder 2026-04-13T07:00:00.000Z',
      'cat email:renewal-reminder 2026-04-13T07:00:00.000Z',
      'bob email:renewal-reminder 2026-04-13T13:00:00.000Z',
    ])
    const runs = await world.db.query<{ user_id: string; entry_key: string }>(
      `SELECT p.user_id, r.entry_key FROM journey_runs r JOIN profiles p USING (workspace_id, profile_id)
       ORDER BY p.user_id`,
    )
    expect(runs.map((r) => `${r.user_id} ${r.entry_key}`)).toEqual([
      'ann event:date:renewal-reminder:2026-04-13T07:00:00.000Z',
      'bob event:date:renewal-reminder:2026-04-13T13:00:00.000Z',
      'cat event:date:renewal-reminder:2026-04-13T07:00:00.000Z',
    ])
    // A one-off date leaves nothing behind once it has fired.
    expect(await timers(world)).toEqual([])
  })

  it('a moved trait moves the reminder (never both), a cleared one removes it, a pause stops it', async () => {
    world = await makeWorld(driver, '2026-03-01T00:00:00Z')
    await publishJourney(world, renewal)
    await world.identify('ann', { renewal_at: '2026-04-20', timezone: 'Europe/Paris' })
    await world.identify('eve', { renewal_at: '2026-04-20', timezone: 'Europe/Paris' })
    await world.identify('fay', { renewal_at: '2026-05-20', timezone: 'Europe/Paris' })
    await world.runUntil('2026-04-01T00:00:00Z')
    await world.identify('ann', { renewal_at: '2026-06-20' })
    await world.identify('eve', { renewal_at: null })
    // One timer per member, at the new date; none for the cleared one.
    const pending = await world.db.query<{ user_id: string; fire_at: Date }>(
      `SELECT p.user_id, t.fire_at FROM timers t JOIN profiles p USING (workspace_id, profile_id)
       WHERE t.kind = 'journey_date' ORDER BY p.user_id`,
    )
    expect(pending.map((t) => `${t.user_id} ${t.fire_at.toISOString()}`)).toEqual([
      'ann 2026-06-13T07:00:00.000Z',
      'fay 2026-05-13T07:00:00.000Z',
    ])
    await world.runUntil('2026-05-01T00:00:00Z')
    await world.db.transaction((tx) => setJourneyStatus(tx, 'default', 'renewal-reminder', 'paused'))
    world.workers.catalog.invalidate()
    await world.runUntil('2026-05-20T00:00:00Z')
    expect(await world.sends()).toEqual([])
    await world.db.transaction((tx) => publishVersion(tx, 'default', 'renewal-reminder'))
    world.workers.catalog.invalidate()
    await world.runUntil('2026-07-01T00:00:00Z')
    // Published again: ann's reminder is set up again for her new date; fay's date passed.
    expect(await world.sends()).toEqual(['ann email:renewal-reminder 2026-06-13T07:00:00.000Z'])
  })

  it('an anniversary on 29 February falls on 28 February in a non-leap year, then repeats', async () => {
    world = await makeWorld(driver, '2027-01-01T00:00:00Z')
    await publishJourney(world, birthday)
    await world.identify('ann', { birthday: '2000-02-29', timezone: 'Europe/Paris' })
    await world.identify('bob', { birthday: '1990-03-10', timezone: 'America/New_York' })
    await world.runUntil('2029-01-01T00:00:00Z')
    expect(await world.sends()).toEqual([
      'ann email:happy-birthday 2027-02-28T09:00:00.000Z',
      'bob email:happy-birthday 2027-03-10T15:00:00.000Z',
      'ann email:happy-birthday 2028-02-29T09:00:00.000Z',
      'bob email:happy-birthday 2028-03-10T15:00:00.000Z',
    ])
    // The next birthdays are already set, one timer per member (New York is still on winter
    // time on 10 March 2029).
    expect((await timers(world)).map((t) => `${t.kind} ${t.fire_at.toISOString()}`)).toEqual([
      'journey_date 2029-02-28T09:00:00.000Z',
      'journey_date 2029-03-10T15:00:00.000Z',
    ])
  })

  it('"0 9 * * mon" at 09:00 in each member timezone, across the change to summer time', async () => {
    world = await makeWorld(driver, '2026-03-18T12:00:00Z')
    await world.identify('ann', { timezone: 'Europe/Paris' })
    await publishJourney(world, weekly)
    await world.identify('bob', { timezone: 'America/New_York' })
    await world.identify('cat', { first_name: 'Cat' })
    await world.runUntil('2026-04-07T00:00:00Z')
    // Paris moves to summer time on 29 March: 08:00Z before, 07:00Z after. cat has no
    // timezone: UTC. New York changed on 8 March.
    expect(await world.sends()).toEqual([
      'ann email:weekly-digest 2026-03-23T08:00:00.000Z',
      'cat email:weekly-digest 2026-03-23T09:00:00.000Z',
      'bob email:weekly-digest 2026-03-23T13:00:00.000Z',
      'ann email:weekly-digest 2026-03-30T07:00:00.000Z',
      'cat email:weekly-digest 2026-03-30T09:00:00.000Z',
      'bob email:weekly-digest 2026-03-30T13:00:00.000Z',
      'ann email:weekly-digest 2026-04-06T07:00:00.000Z',
      'cat email:weekly-digest 2026-04-06T09:00:00.000Z',
      'bob email:weekly-digest 2026-04-06T13:00:00.000Z',
    ])
    // One timer per timezone, not per member: the next Monday in each.
    expect((await timers(world)).map((t) => `${t.kind} ${t.fire_at.toISOString()}`)).toEqual([
      'journey_schedule 2026-04-13T07:00:00.000Z',
      'journey_schedule 2026-04-13T09:00:00.000Z',
      'journey_schedule 2026-04-13T13:00:00.000Z',
    ])
  })

  it('a schedule restricted to a segment enters its members only', async () => {
    world = await makeWorld(driver, '2026-03-18T12:00:00Z')
    await world.identify('ann', { timezone: 'Europe/Paris' })
    await world.identify('bob', { timezone: 'Europe/Paris' })
    await world.db.query(
      `INSERT INTO segment_members (workspace_id, profile_id, segment_id, entered_at)
       SELECT workspace_id, profile_id, 'newcomers', now() FROM profiles WHERE user_id = 'bob'`,
    )
    await publishJourney(world, {
      ...weekly,
      trigger: { ...weekly.trigger, segment: 'newcomers', timezone: 'Europe/Paris' },
    })
    await world.runUntil('2026-03-24T00:00:00Z')
    expect(await world.sends()).toEqual(['bob email:weekly-digest 2026-03-23T08:00:00.000Z'])
  })
})
