import { afterAll, beforeAll, expect, it } from 'vitest'
import { signLink } from '../../src/domain/links.ts'
import { PIXEL } from '../../src/http/public/tracking.ts'
import { describeEachDriver } from '../helpers/db.ts'
import {
  addMember,
  BROWSER_UA,
  flipMiddle,
  linkPath,
  loggedEvents,
  messageRow,
  openWorld,
  sentMessage,
  type World,
  WS,
} from './helpers.ts'

describeEachDriver('open pixel and click redirect', (driver) => {
  let w: World
  beforeAll(async () => {
    w = await openWorld(driver)
  })
  afterAll(() => w.close())

  const engagements = (messageId: string) =>
    w.db.query<{ kind: string; url: string; bot: boolean; bot_reason: string | null; count: number }>(
      `SELECT kind, url, bot, bot_reason, count FROM message_engagements WHERE message_id = $1 ORDER BY kind, bot, url`,
      [messageId],
    )

  it('the pixel is a GIF; the first human open moves the message to opened and emits one event', async () => {
    const ann = await addMember(w.db, 'ann')
    const messageId = await sentMessage(w.db, ann.profileId, { sentAt: w.clock.now() })
    const pixel = await linkPath(w.db, { kind: 'open', workspaceId: WS, messageId }, w.clock.now())
    expect(pixel).toMatch(/^\/o\/.+\.gif$/)
    w.clock.advance(10 * 60_000)
    const open = () => w.app.inject({ method: 'GET', url: pixel, headers: { 'user-agent': BROWSER_UA } })
    const res = await open()
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toBe('image/gif')
    expect(res.headers['cache-control']).toContain('no-store')
    expect(res.rawPayload.equals(PIXEL)).toBe(true)
    expect(res.rawPayload.subarray(0, 6).toString()).toBe('GIF89a')

    const row = await messageRow(w.db, messageId)
    expect(row?.status).toBe('opened')
    expect(row?.opened_at?.toISOString()).toBe(w.clock.now().toISOString())

    // Opened again later: counted as a hit, but the message log and the events are unchanged.
    w.clock.advance(60_000)
    await open()
    await open()
    expect((await messageRow(w.db, messageId))?.opened_at?.toISOString()).toBe(
      new Date(w.clock.now().getTime() - 60_000).toISOString(),
    )
    const events = await loggedEvents(w.db, 'Message Opened')
    expect(events).toHaveLength(1)
    expect(events[0]?.user_id).toBe('ann')
    expect(events[0]?.properties).toEqual({
      message_id: messageId,
      journey_id: 'onboarding',
      run_id: 'run-1',
      step_id: 'welcome',
      template: 'welcome-mail',
      channel: 'email',
    })
    expect(await engagements(messageId)).toEqual([
      { kind: 'open', url: '', bot: false, bot_reason: null, count: 3 },
    ])
  })

  it('scanner and prefetch opens are recorded, flagged, and not counted as human opens', async () => {
    const bob = await addMember(w.db, 'bob')
    const messageId = await sentMessage(w.db, bob.profileId, { sentAt: w.clock.now() })
    const pixel = await linkPath(w.db, { kind: 'open', workspaceId: WS, messageId }, w.clock.now())
    // Two seconds after sending, from a browser-like agent: a prefetch.
    w.clock.advance(2_000)
    await w.app.inject({ method: 'GET', url: pixel, headers: { 'user-agent': BROWSER_UA } })
    // A security scanner, minutes later.
    w.clock.advance(5 * 60_000)
    await w.app.inject({
      method: 'GET',
      url: pixel,
      headers: { 'user-agent': 'Mozilla/5.0 (compatible; Barracuda Sentinel)' },
    })
    expect(await messageRow(w.db, messageId)).toMatchObject({ status: 'sent', opened_at: null })
    // Both machine hits share the message's bot row, which keeps the first reason.
    expect(await engagements(messageId)).toEqual([
      { kind: 'open', url: '', bot: true, bot_reason: 'within 5s of sending', count: 2 },
    ])
    expect((await loggedEvents(w.db, 'Message Opened')).filter((e) => e.user_id === 'bob')).toEqual([])

    // The member opens it for real: now it counts.
    w.clock.advance(60_000)
    await w.app.inject({ method: 'GET', url: pixel, headers: { 'user-agent': BROWSER_UA } })
    expect((await messageRow(w.db, messageId))?.status).toBe('opened')
  })

  it('a pixel with a bad token still answers the GIF and records nothing', async () => {
    const before = (await loggedEvents(w.db)).length
    const res = await w.app.inject({ method: 'GET', url: '/o/eyJ2IjoxfQ.AAAA.gif' })
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toBe('image/gif')
    expect(await loggedEvents(w.db)).toHaveLength(before)
  })

  it('a click redirects to the signed URL, moves the message to clicked, emits Message Clicked once per URL', async () => {
    const cy = await addMember(w.db, 'cy')
    const messageId = await sentMessage(w.db, cy.profileId, { sentAt: w.clock.now() })
    const target = 'https://community.example/t/welcome?utm_source=nudge#top'
    const link = await linkPath(
      w.db,
      { kind: 'click', workspaceId: WS, messageId, url: target },
      w.clock.now(),
    )
    w.clock.advance(30 * 60_000)
    const click = () => w.app.inject({ method: 'GET', url: link, headers: { 'user-agent': BROWSER_UA } })
    const res = await click()
    expect(res.statusCode).toBe(302)
    expect(res.headers.location).toBe(target)
    const row = await messageRow(w.db, messageId)
    expect(row?.status).toBe('clicked')
    // No pixel was loaded (images off): the click counts as the open too.
    expect(row?.opened_at?.toISOString()).toBe(w.clock.now().toISOString())
    await click()
    const mine = (await loggedEvents(w.db)).filter((e) => e.user_id === 'cy')
    expect(mine.map((e) => e.name)).toEqual(['Message Opened', 'Message Clicked'])
    expect(mine[0]?.properties.inferred).toBe(true)
    expect(mine[1]?.properties).toMatchObject({ message_id: messageId, url: target, step_id: 'welcome' })
  })

  it('a click after an open moves opened -> clicked without a second Message Opened', async () => {
    const fay = await addMember(w.db, 'fay')
    const messageId = await sentMessage(w.db, fay.profileId, { sentAt: w.clock.now() })
    const pixel = await linkPath(w.db, { kind: 'open', workspaceId: WS, messageId }, w.clock.now())
    const link = await linkPath(
      w.db,
      { kind: 'click', workspaceId: WS, messageId, url: 'https://community.example/b' },
      w.clock.now(),
    )
    w.clock.advance(60_000)
    await w.app.inject({ method: 'GET', url: pixel, headers: { 'user-agent': BROWSER_UA } })
    const openedAt = (await messageRow(w.db, messageId))?.opened_at?.toISOString()
    w.clock.advance(60_000)
    await w.app.inject({ method: 'GET', url: link, headers: { 'user-agent': BROWSER_UA } })
    const row = await messageRow(w.db, messageId)
    expect(row?.status).toBe('clicked')
    expect(row?.opened_at?.toISOString()).toBe(openedAt)
    const mine = (await loggedEvents(w.db)).filter((e) => e.user_id === 'fay')
    expect(mine.map((e) => [e.name, e.properties.inferred])).toEqual([
      ['Message Opened', undefined],
      ['Message Clicked', undefined],
    ])
  })

  it('a tampered or foreign click URL gets 400 and no redirect', async () => {
    const dee = await addMember(w.db, 'dee')
    const messageId = await sentMessage(w.db, dee.profileId, { sentAt: w.clock.now() })
    const link = await linkPath(
      w.db,
      { kind: 'click', workspaceId: WS, messageId, url: 'https://community.example/a' },
      w.clock.now(),
    )
    const [payload, sig] = link.slice(3).split('.') as [string, string]
    const wire = JSON.parse(Buffer.from(payload, 'base64url').toString())
    const swapped = Buffer.from(JSON.stringify({ ...wire, u: 'https://evil.example/phish' })).toString(
      'base64url',
    )
    const bad = [
      `/c/${swapped}.${sig}`,
      // Signed, but not by this workspace's secret.
      `/c/${signLink({ kind: 'click', workspaceId: WS, messageId, url: 'https://evil.example/' }, 'guessed', w.clock.now())}`,
      `${link.replace(sig, flipMiddle(sig))}?url=https://evil.example/`,
    ]
    for (const url of bad) {
      const res = await w.app.inject({ method: 'GET', url, headers: { 'user-agent': BROWSER_UA } })
      expect(res.statusCode, url).toBe(400)
      expect(res.headers.location).toBeUndefined()
    }
    expect((await messageRow(w.db, messageId))?.status).toBe('sent')
    expect((await loggedEvents(w.db)).filter((e) => e.user_id === 'dee')).toEqual([])
  })
})
