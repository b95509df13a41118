import { afterAll, beforeAll, expect, it } from 'vitest'
import { subscriptionGuard } from '../../src/domain/guards/subscription.ts'
import { listPreferences } from '../../src/store/preferences.ts'
import { describeEachDriver } from '../helpers/db.ts'
import { addMember, linkPath, loggedEvents, openWorld, type World, WS } from './helpers.ts'

const FORM = { 'content-type': 'application/x-www-form-urlencoded' }

/** The boxes a page shows ticked. */
const ticked = (html: string) => [...html.matchAll(/name="(s\.[^"]+)"[^>]*checked/g)].map((m) => m[1])

describeEachDriver('preferences page', (driver) => {
  let w: World
  beforeAll(async () => {
    w = await openWorld(driver)
    await w.db.query(`UPDATE workspaces SET settings = $1 WHERE id = $2`, [
      JSON.stringify({ topics: [{ id: 'digest', label: 'Weekly digest' }, 'events'] }),
      WS,
    ])
  })
  afterAll(() => w.close())

  it('round trip: shows the workspace topics x channels, saves what the member unticks, shows it back', async () => {
    const ann = await addMember(w.db, 'ann')
    const path = await linkPath(
      w.db,
      { kind: 'preferences', workspaceId: WS, profileId: ann.profileId },
      w.clock.now(),
    )
    const first = await w.app.inject({ method: 'GET', url: path })
    expect(first.statusCode).toBe(200)
    expect(first.body).toContain('Weekly digest')
    expect(first.body).not.toContain('<script')
    // Nothing chosen yet: subscribed everywhere by default.
    const all = [
      's.digest.email',
      's.digest.sms',
      's.digest.push',
      's.digest.in_app',
      's.events.email',
      's.events.sms',
      's.events.push',
      's.events.in_app',
    ]
    expect(ticked(first.body)).toEqual(all)

    // The member keeps the digest by email only and everything about events but SMS.
    const keep = ['s.digest.email', 's.events.email', 's.events.push', 's.events.in_app']
    w.clock.advance(1000)
    const saved = await w.app.inject({
      method: 'POST',
      url: path,
      headers: FORM,
      payload: keep.map((k) => `${encodeURIComponent(k)}=on`).join('&'),
    })
    expect(saved.statusCode).toBe(303)
    expect(saved.headers.location).toBe(`${path}?saved=1`)

    const again = await w.app.inject({ method: 'GET', url: `${path}?saved=1` })
    expect(again.body).toContain('Your preferences are saved')
    expect(ticked(again.body)).toEqual(keep)

    const rows = await listPreferences(w.db, WS, ann.profileId)
    expect(rows.map((p) => `${p.topic}/${p.channel}=${p.subscribed}`).sort()).toEqual([
      'digest/in_app=false',
      'digest/push=false',
      'digest/sms=false',
      'events/sms=false',
    ])
    const events = await loggedEvents(w.db, 'Unsubscribed')
    expect(events.map((e) => `${e.properties.topic}/${e.properties.subscription_channel}`).sort()).toEqual([
      'digest/in_app',
      'digest/push',
      'digest/sms',
      'events/sms',
    ])
    expect(events.every((e) => e.properties.source === 'preferences_page' && e.user_id === 'ann')).toBe(true)

    // The subscription guard reads the same rows the same way.
    const decide = (topic: string, channel: 'email' | 'sms') =>
      subscriptionGuard({
        request: {
          workspaceId: WS,
          messageId: 'x',
          profile: { profileId: ann.profileId, timezone: null },
          channel,
          topic,
          category: 'marketing',
          transactional: false,
        },
        state: { suppressions: [], preferences: rows, history: [] },
        policy: { subscriptions: { requireOptIn: [] } },
      } as unknown as Parameters<typeof subscriptionGuard>[0]).outcome?.outcome ?? 'send'
    expect(decide('digest', 'email')).toBe('send')
    expect(decide('digest', 'sms')).toBe('suppressed')
  })

  it('"stop all" writes one row and withdrawing it restores the boxes as ticked', async () => {
    const bob = await addMember(w.db, 'bob')
    const path = await linkPath(
      w.db,
      { kind: 'preferences', workspaceId: WS, profileId: bob.profileId },
      w.clock.now(),
    )
    await w.app.inject({ method: 'POST', url: path, headers: FORM, payload: 'stop_all=on&s.digest.email=on' })
    expect(
      (await listPreferences(w.db, WS, bob.profileId)).map((p) => [p.topic, p.channel, p.subscribed]),
    ).toEqual([['*', '*', false]])
    const stopped = await w.app.inject({ method: 'GET', url: path })
    expect(stopped.body).toMatch(/name="stop_all" checked/)
    expect(ticked(stopped.body)).toEqual([])

    w.clock.advance(1000)
    await w.app.inject({
      method: 'POST',
      url: path,
      headers: FORM,
      payload: 's.digest.email=on&s.events.email=on',
    })
    const back = await w.app.inject({ method: 'GET', url: path })
    expect(ticked(back.body)).toEqual(['s.digest.email', 's.events.email'])
    const subscribed = (await loggedEvents(w.db, 'Subscribed')).filter((e) => e.user_id === 'bob')
    expect(subscribed.map((e) => `${e.properties.topic}/${e.properties.subscription_channel}`)).toEqual([
      '*/*',
    ])
  })

  it('an expired or forged preferences link gets 400 and saves nothing', async () => {
    const cy = await addMember(w.db, 'cy')
    const path = await linkPath(
      w.db,
      { kind: 'preferences', workspaceId: WS, profileId: cy.profileId },
      w.clock.now(),
    )
    w.clock.advance(31 * 24 * 3600_000)
    const expired = await w.app.inject({ method: 'POST', url: path, headers: FORM, payload: 'stop_all=on' })
    expect(expired.statusCode).toBe(400)
    expect(expired.body).toContain('expired')
    const forged = await w.app.inject({
      method: 'POST',
      url: `${path}x`,
      headers: FORM,
      payload: 'stop_all=on',
    })
    expect(forged.statusCode).toBe(400)
    expect(await listPreferences(w.db, WS, cy.profileId)).toEqual([])
  })
})
