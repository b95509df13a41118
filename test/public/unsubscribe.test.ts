import { afterAll, beforeAll, expect, it } from 'vitest'
import { signLink } from '../../src/domain/links.ts'
import { listPreferences } from '../../src/store/preferences.ts'
import { describeEachDriver } from '../helpers/db.ts'
import {
  addMember,
  flipMiddle,
  linkPath,
  loggedEvents,
  openWorld,
  sentMessage,
  type World,
  WS,
} from './helpers.ts'

describeEachDriver('unsubscribe link', (driver) => {
  let w: World
  beforeAll(async () => {
    w = await openWorld(driver)
  })
  afterAll(() => w.close())

  it('one-click POST (RFC 8058) unsubscribes from the topic with no session or cookie, once', async () => {
    const ann = await addMember(w.db, 'ann')
    const messageId = await sentMessage(w.db, ann.profileId, { sentAt: w.clock.now() })
    const path = await linkPath(
      w.db,
      { kind: 'unsubscribe', workspaceId: WS, profileId: ann.profileId, topic: 'newsletter', messageId },
      w.clock.now(),
    )
    const post = () =>
      w.app.inject({
        method: 'POST',
        url: path,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: 'List-Unsubscribe=One-Click',
      })
    const res = await post()
    expect(res.statusCode).toBe(200)
    expect(res.body).toContain('You are unsubscribed')
    const prefs = await listPreferences(w.db, WS, ann.profileId)
    expect(prefs.map((p) => [p.topic, p.channel, p.subscribed])).toEqual([['newsletter', '*', false]])
    expect(prefs[0]?.updatedAt.toISOString()).toBe(w.clock.now().toISOString())

    const events = await loggedEvents(w.db, 'Unsubscribed')
    expect(events).toHaveLength(1)
    expect(events[0]?.user_id).toBe('ann')
    expect(events[0]?.properties).toMatchObject({
      topic: 'newsletter',
      subscription_channel: '*',
      source: 'one_click',
      message_id: messageId,
      journey_id: 'onboarding',
      step_id: 'welcome',
      template: 'welcome-mail',
    })

    // A mail client retrying, or the member clicking again: no second event.
    w.clock.advance(60_000)
    expect((await post()).statusCode).toBe(200)
    expect(await loggedEvents(w.db, 'Unsubscribed')).toHaveLength(1)
  })

  it('GET shows a confirmation form and changes nothing; the form can stop everything', async () => {
    const bob = await addMember(w.db, 'bob')
    const path = await linkPath(
      w.db,
      { kind: 'unsubscribe', workspaceId: WS, profileId: bob.profileId, topic: 'tips' },
      w.clock.now(),
    )
    const page = await w.app.inject({ method: 'GET', url: path })
    expect(page.statusCode).toBe(200)
    expect(page.headers['content-type']).toContain('text/html')
    expect(page.body).toContain(`<form method="post" action="${path}">`)
    expect(page.body).toContain('Tips for getting started')
    expect(page.body).not.toContain('<script')
    expect(await listPreferences(w.db, WS, bob.profileId)).toEqual([])

    const res = await w.app.inject({
      method: 'POST',
      url: path,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'scope=all',
    })
    expect(res.statusCode).toBe(200)
    const prefs = await listPreferences(w.db, WS, bob.profileId)
    expect(prefs.map((p) => [p.topic, p.channel, p.subscribed])).toEqual([['*', '*', false]])
    const ev = (await loggedEvents(w.db, 'Unsubscribed')).filter((e) => e.user_id === 'bob')
    expect(ev.map((e) => e.properties)).toEqual([{ topic: '*', subscription_channel: '*', source: 'link' }])
  })

  it('a forged or tampered token gets 400 and changes nothing', async () => {
    const cy = await addMember(w.db, 'cy')
    const good = await linkPath(
      w.db,
      { kind: 'unsubscribe', workspaceId: WS, profileId: cy.profileId, topic: 'tips' },
      w.clock.now(),
    )
    const token = good.slice('/u/'.length)
    const [payload, sig] = token.split('.') as [string, string]
    // Other claims (another topic) under the original signature.
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString())
    const other = Buffer.from(JSON.stringify({ ...claims, t: 'marketing' })).toString('base64url')
    const forged = [
      `/u/${other}.${sig}`,
      `/u/${payload}.${flipMiddle(sig)}`,
      `/u/${signLink({ kind: 'unsubscribe', workspaceId: WS, profileId: cy.profileId, topic: 'tips' }, 'not-the-secret', w.clock.now())}`,
      `/u/${signLink({ kind: 'unsubscribe', workspaceId: 'nowhere', profileId: cy.profileId, topic: 'tips' }, 'x', w.clock.now())}`,
      '/u/garbage',
    ]
    const before = (await loggedEvents(w.db)).length
    for (const url of forged) {
      const res = await w.app.inject({
        method: 'POST',
        url,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: 'List-Unsubscribe=One-Click',
      })
      expect(res.statusCode, url).toBe(400)
      expect(res.body).toContain('This link does not work')
      expect((await w.app.inject({ method: 'GET', url })).statusCode).toBe(400)
    }
    // An open-pixel token is signed but is not an unsubscribe link.
    const pixel = await linkPath(w.db, { kind: 'open', workspaceId: WS, messageId: 'm1' }, w.clock.now())
    const wrongKind = `/u/${pixel.slice(3, -'.gif'.length)}`
    expect((await w.app.inject({ method: 'POST', url: wrongKind })).statusCode).toBe(400)

    expect(await listPreferences(w.db, WS, cy.profileId)).toEqual([])
    expect(await loggedEvents(w.db)).toHaveLength(before)
  })
})
