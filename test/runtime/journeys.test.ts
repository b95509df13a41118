// The example journeys end to end on a real database: events into the log, the real
// processor and scheduler on a fake clock, and the messages they queue.
import { afterEach, expect, it } from 'vitest'
import { describeEachDriver } from '../helpers/db.ts'
import { makeWorld, type World } from '../helpers/world.ts'

describeEachDriver('journeys at run time', (driver) => {
  let world: World
  afterEach(() => world.close())

  it('welcome-series: welcome at once, then days 2, 5, 9; an unsubscribe ends it mid-delay', async () => {
    world = await makeWorld(driver, '2026-03-02T10:00:00Z')
    await world.publish('welcome-series')
    await world.track('ann', 'Signed Up')
    await world.track('bob', 'Signed Up')
    await world.runUntil('2026-03-05T08:00:00Z')
    await world.track('bob', 'Unsubscribed')
    await world.runUntil('2026-04-01T00:00:00Z')
    expect(await world.sends()).toEqual([
      'ann email:welcome 2026-03-02T10:00:00.000Z',
      'bob email:welcome 2026-03-02T10:00:00.000Z',
      'ann email:newcomer-1-find-your-way 2026-03-04T10:00:00.000Z',
      'bob email:newcomer-1-find-your-way 2026-03-04T10:00:00.000Z',
      'ann email:newcomer-2-first-post 2026-03-07T10:00:00.000Z',
      'ann email:newcomer-3-meet-the-regulars 2026-03-11T10:00:00.000Z',
    ])
    const runs = await world.db.query<{ status: string; ended_at: Date }>(
      `SELECT r.status, r.ended_at FROM journey_runs r JOIN profiles p USING (workspace_id, profile_id)
       WHERE p.user_id = 'bob'`,
    )
    expect(runs.map((r) => [r.status, r.ended_at.toISOString()])).toEqual([
      ['exited', '2026-03-05T08:00:00.000Z'],
    ])
    // Nothing left behind: bob's timers were cancelled with his run (the community
    // model's own timers, such as "stuck in a stage", are not the journey's).
    expect(await world.db.query("SELECT timer_id FROM timers WHERE kind NOT LIKE 'community.%'")).toEqual([])
  })

  it('a run whose stored state is broken fails its own timer only: the others in its chunk send, it is retried alone', async () => {
    world = await makeWorld(driver, '2026-03-02T10:00:00Z')
    await world.publish('welcome-series')
    for (const member of ['ann', 'bob', 'cat']) await world.track(member, 'Signed Up')
    await world.runUntil('2026-03-02T11:00:00Z')
    const bobRun = `SELECT r.run_id FROM journey_runs r JOIN profiles p USING (workspace_id, profile_id) WHERE p.user_id = 'bob'`
    const [saved] = await world.db.query<{ state: unknown }>(
      `SELECT state FROM journey_runs WHERE run_id = (${bobRun})`,
    )
    await world.db.query(`UPDATE journey_runs SET state = '{}' WHERE run_id = (${bobRun})`)
    // The three delay timers fall due together, in one chunk.
    await world.runUntil('2026-03-04T10:00:00Z')
    expect((await world.sends()).filter((s) => s.includes('newcomer-1'))).toEqual([
      'ann email:newcomer-1-find-your-way 2026-03-04T10:00:00.000Z',
      'cat email:newcomer-1-find-your-way 2026-03-04T10:00:00.000Z',
    ])
    const [timer] = await world.db.query<{ attempts: number; last_error: string }>(
      `SELECT attempts, last_error FROM timers WHERE payload ->> 'runId' = (${bobRun})`,
    )
    expect(timer?.attempts).toBe(1)
    expect(timer?.last_error).toMatch(/timestamp/)
    // Repaired before its retry (2 s later), bob's step is sent then, once.
    await world.db.query(`UPDATE journey_runs SET state = $1 WHERE run_id = (${bobRun})`, [
      JSON.stringify(saved?.state),
    ])
    await world.runUntil('2026-03-04T10:01:00Z')
    expect((await world.sends()).filter((s) => s.includes('newcomer-1'))).toEqual([
      'ann email:newcomer-1-find-your-way 2026-03-04T10:00:00.000Z',
      'cat email:newcomer-1-find-your-way 2026-03-04T10:00:00.000Z',
      'bob email:newcomer-1-find-your-way 2026-03-04T10:00:02.000Z',
    ])
  })

  it('beginner-photo-tip: two days after the first beginners post, not for members who own the guide', async () => {
    world = await makeWorld(driver, '2026-04-20T12:00:00Z')
    await world.publish('beginner-photo-tip')
    await world.track('dan', 'Guide Purchased', { guide: 'beginners' })
    await world.runUntil('2026-05-04T18:30:00Z')
    await world.track('ann', 'Post Created', { forum: 'photo-beginners' })
    await world.track('bob', 'Post Created', { forum: 'landscapes' })
    await world.track('dan', 'Post Created', { forum: 'photo-beginners' })
    await world.track('cat', 'Post Created', { forum: 'photo-beginners' })
    await world.runUntil('2026-05-05T12:00:00Z')
    await world.track('cat', 'Guide Purchased', { guide: 'beginners' })
    await world.runUntil('2026-05-10T09:00:00Z')
    await world.track('ann', 'Post Created', { forum: 'photo-beginners' })
    await world.runUntil('2026-06-01T00:00:00Z')
    expect(await world.sends()).toEqual(['ann email:photo-tip-beginners-guide 2026-05-06T18:30:00.000Z'])
    const statuses = await world.db.query<{ user_id: string; status: string }>(
      `SELECT p.user_id, r.status FROM journey_runs r JOIN profiles p USING (workspace_id, profile_id) ORDER BY p.user_id`,
    )
    // ann's goal window (14 days) closed before June: her run completed.
    expect(statuses).toEqual([
      { user_id: 'ann', status: 'completed' },
      { user_id: 'cat', status: 'converted' },
      { user_id: 'dan', status: 'exited' },
    ])
  })

  it('feedback-ask: three days after sign-up, at the next 9:00-11:00 in the member timezone', async () => {
    world = await makeWorld(driver, '2026-01-05T13:00:00Z')
    await world.publish('feedback-ask')
    await world.identify('tokyo', { timezone: 'Asia/Tokyo' })
    await world.identify('paris', { timezone: 'Europe/Paris' })
    await world.runUntil('2026-01-05T14:00:00Z')
    await world.track('tokyo', 'Signed Up')
    await world.track('paris', 'Signed Up')
    await world.runUntil('2026-01-12T00:00:00Z')
    expect(await world.sends()).toEqual([
      // 8 Jan 14:00Z is 23:00 in Tokyo: the next 09:00 there is 9 Jan 00:00Z.
      'tokyo email:feedback-ask 2026-01-09T00:00:00.000Z',
      // 8 Jan 14:00Z is 15:00 in Paris, past the window: Friday 09:00 Paris.
      'paris email:feedback-ask 2026-01-09T08:00:00.000Z',
    ])
    const [message] = await world.db.query<{ payload: { from: string; plainText: boolean } }>(
      `SELECT payload FROM messages LIMIT 1`,
    )
    expect(message?.payload.from).toBe('Camille from the community <camille@example.org>')
    expect(message?.payload.plainText).toBe(true)
  })

  it('rules-reminder: once per comment and at most once per 7 days, with the reasons traced', async () => {
    world = await makeWorld(driver, '2026-02-02T10:00:00Z')
    await world.publish('rules-reminder')
    const comment = (id: string) => ({ comment: 'read-the-rules', comment_id: id })
    await world.track('ann', 'Moderation Comment Received', comment('c-1'))
    await world.runUntil('2026-02-02T10:05:00Z')
    await world.track('ann', 'Moderation Comment Received', comment('c-1'))
    await world.runUntil('2026-02-04T10:00:00Z')
    await world.track('ann', 'Moderation Comment Received', comment('c-2'))
    await world.runUntil('2026-02-10T10:00:00Z')
    await world.track('ann', 'Moderation Comment Received', comment('c-3'))
    expect(await world.sends()).toEqual([
      'ann email:charter-reminder 2026-02-02T10:00:00.000Z',
      'ann email:charter-reminder 2026-02-10T10:00:00.000Z',
    ])
    const skips = await world.db.query<{ message: string }>(
      `SELECT message FROM journey_trace WHERE kind = 'skipped' ORDER BY at, seq`,
    )
    expect(skips.map((s) => s.message)).toEqual([
      'skipped: already entered for key c-1',
      expect.stringMatching(/^skipped: at most 1 per 7d/),
    ])
  })

  it('rules-reminder: 50 identical moderation events for one member queue exactly one message', async () => {
    world = await makeWorld(driver, '2026-02-02T10:00:00Z')
    await world.publish('rules-reminder')
    for (let i = 0; i < 50; i++) {
      await world.track('ann', 'Moderation Comment Received', {
        comment: 'read-the-rules',
        comment_id: 'c-42',
      })
    }
    expect(await world.sends()).toEqual(['ann email:charter-reminder 2026-02-02T10:00:00.000Z'])
  })

  it('abandoned-booking: email and push 30 minutes after an unbooked search, per trip', async () => {
    world = await makeWorld(driver, '2026-01-21T08:00:00Z')
    await world.publish('abandoned-booking')
    await world.track('ann', 'Trip Searched', { trip_id: 'PAR-BRU' })
    await world.track('bob', 'Trip Searched', { trip_id: 'T1' })
    await world.track('cat', 'Trip Searched', { trip_id: 'T1' })
    await world.runUntil('2026-01-21T08:10:00Z')
    await world.track('cat', 'Booking Completed', { trip_id: 'T2' })
    await world.runUntil('2026-01-21T08:29:00Z')
    await world.track('bob', 'Booking Completed', { trip_id: 'T1' })
    await world.runUntil('2026-01-22T00:00:00Z')
    expect(await world.sends()).toEqual([
      'ann email:finish-your-booking 2026-01-21T08:30:00.000Z',
      'ann push:finish-your-booking-push 2026-01-21T08:30:00.000Z',
      'cat email:finish-your-booking 2026-01-21T08:30:00.000Z',
      'cat push:finish-your-booking-push 2026-01-21T08:30:00.000Z',
    ])
  })

  it('contacts-not-uploaded: one explanation three days after sign-up, none after an upload', async () => {
    world = await makeWorld(driver, '2026-01-12T09:15:00Z')
    await world.publish('contacts-not-uploaded')
    await world.track('ann', 'Signed Up')
    await world.track('bob', 'Signed Up')
    await world.runUntil('2026-01-13T09:15:00Z')
    await world.track('ann', 'Signed Up')
    await world.runUntil('2026-01-15T09:14:00Z')
    await world.track('bob', 'Contacts Uploaded')
    await world.runUntil('2026-02-01T00:00:00Z')
    expect(await world.sends()).toEqual(['ann email:how-to-upload-contacts 2026-01-15T09:15:00.000Z'])
  })

  it('airport-ride: a push at the airport, at most once per day', async () => {
    world = await makeWorld(driver, '2026-07-03T07:00:00Z')
    await world.publish('airport-ride')
    await world.track('ann', 'Location Updated', { place_type: 'airport' })
    await world.runUntil('2026-07-03T09:00:00Z')
    await world.track('ann', 'Location Updated', { place_type: 'airport' })
    await world.track('ann', 'Location Updated', { place_type: 'station' })
    await world.runUntil('2026-07-04T07:01:00Z')
    await world.track('ann', 'Location Updated', { place_type: 'airport' })
    expect(await world.sends()).toEqual([
      'ann push:airport-ride-offer 2026-07-03T07:00:00.000Z',
      'ann push:airport-ride-offer 2026-07-04T07:01:00.000Z',
    ])
  })
})
