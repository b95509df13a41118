import { afterAll, beforeAll, expect, it } from 'vitest'
import { openChannel } from '../../src/channels/registry.ts'
import type { ChannelSender, OutgoingMessage } from '../../src/channels/types.ts'
import { memberToken } from '../../src/domain/member-auth.ts'
import { inAppInbox } from '../../src/store/in-app.ts'
import { pushSubscriptionsOf, removePushSubscription } from '../../src/store/push-subscriptions.ts'
import { workspaceIdentitySecret } from '../../src/store/workspace-secrets.ts'
import { describeEachDriver } from '../helpers/db.ts'
import { addMember, loggedEvents, messageRow, openWorld, sentMessage, type World, WS } from './helpers.ts'

describeEachDriver('in-app channel and member API', (driver) => {
  let w: World
  let channel: ChannelSender
  let secret: string
  beforeAll(async () => {
    w = await openWorld(driver)
    const opened = openChannel(
      'in_app',
      {},
      { clock: w.clock, dataDir: '/nonexistent', inAppInbox: inAppInbox(w.db) },
    )
    if (!opened.ok) throw new Error(JSON.stringify(opened.issues))
    channel = opened.channel
    secret = (await workspaceIdentitySecret(w.db, WS)) ?? ''
  })
  afterAll(() => w.close())

  const auth = (userId: string, token = memberToken(secret, userId)) => ({
    authorization: `Bearer ${token}`,
    'x-nudge-user': userId,
    'x-nudge-workspace': WS,
  })

  const message = (id: string, profileId: string, extra: Partial<OutgoingMessage> = {}): OutgoingMessage => ({
    id,
    idempotencyKey: id,
    category: 'marketing',
    to: { profileId },
    content: {
      subject: 'Welcome to the forum',
      text: 'Say hello in #introductions',
      url: 'https://community.example/intro',
    },
    meta: { workspaceId: WS, profileId },
    ...extra,
  })

  it('a message sent through the channel is listed for its member only, once however often it is sent', async () => {
    const ann = await addMember(w.db, 'ann')
    const eve = await addMember(w.db, 'eve')
    const id = await sentMessage(w.db, ann.profileId, { channel: 'in_app', sentAt: w.clock.now() })
    const first = await channel.send(message(id, ann.profileId, { data: { kind: 'banner' } }))
    const retry = await channel.send(message(id, ann.profileId, { data: { kind: 'banner' } }))
    expect(first).toEqual({ ok: true, providerId: `in_app:${id}` })
    expect(retry).toMatchObject({ ok: true, detail: 'already stored' })

    const res = await w.app.inject({ method: 'GET', url: '/v1/in-app/messages', headers: auth('ann') })
    expect(res.statusCode).toBe(200)
    expect(res.headers['access-control-allow-origin']).toBe('*')
    expect(res.json()).toEqual({
      messages: [
        {
          id,
          kind: 'banner',
          title: 'Welcome to the forum',
          body: 'Say hello in #introductions',
          url: 'https://community.example/intro',
          createdAt: w.clock.now().toISOString(),
          readAt: null,
        },
      ],
      unread: 1,
    })

    // Eve has a valid token of her own: she sees her (empty) list, never Ann's.
    const eves = await w.app.inject({ method: 'GET', url: '/v1/in-app/messages', headers: auth('eve') })
    expect(eves.json()).toEqual({ messages: [], unread: 0 })
    // Eve's token presented as Ann, a made-up token, or none at all: 401.
    for (const headers of [
      auth('ann', memberToken(secret, 'eve')),
      auth('ann', 'a'.repeat(64)),
      { 'x-nudge-user': 'ann' },
      auth('ann', memberToken('another-workspace-secret', 'ann')),
    ]) {
      const r = await w.app.inject({ method: 'GET', url: '/v1/in-app/messages', headers })
      expect(r.statusCode).toBe(401)
      expect(r.json().error.code).toBe('NUDGE_ERR_UNAUTHORIZED')
    }
    // Nor can Eve mark Ann's message.
    const steal = await w.app.inject({
      method: 'POST',
      url: `/v1/in-app/messages/${encodeURIComponent(id)}/dismiss`,
      headers: auth('eve'),
    })
    expect(steal.statusCode).toBe(404)
    void eve
  })

  it('read marks the message read and opened; dismiss hides it; both are idempotent', async () => {
    const bob = await addMember(w.db, 'bob')
    const id = await sentMessage(w.db, bob.profileId, { channel: 'in_app', sentAt: w.clock.now() })
    await channel.send(message(id, bob.profileId))
    w.clock.advance(60_000)
    const url = (a: string) => `/v1/in-app/messages/${encodeURIComponent(id)}/${a}`
    for (let i = 0; i < 2; i++) {
      const r = await w.app.inject({ method: 'POST', url: url('read'), headers: auth('bob') })
      expect(r.statusCode).toBe(200)
    }
    const listed = (
      await w.app.inject({ method: 'GET', url: '/v1/in-app/messages', headers: auth('bob') })
    ).json()
    expect(listed.messages[0]).toMatchObject({ id, kind: 'inbox', readAt: w.clock.now().toISOString() })
    expect(listed.unread).toBe(0)
    expect((await messageRow(w.db, id))?.status).toBe('opened')

    await w.app.inject({ method: 'POST', url: url('dismiss'), headers: auth('bob') })
    await w.app.inject({ method: 'POST', url: url('dismiss'), headers: auth('bob') })
    const after = (
      await w.app.inject({ method: 'GET', url: '/v1/in-app/messages', headers: auth('bob') })
    ).json()
    expect(after.messages).toEqual([])
    const events = (await loggedEvents(w.db)).filter((e) => e.user_id === 'bob').map((e) => e.name)
    expect(events).toEqual(['Message Opened', 'Message Dismissed'])
  })

  it('the channel refuses what it cannot show', async () => {
    const cy = await addMember(w.db, 'cy')
    expect(await channel.send(message('x1', cy.profileId, { data: { kind: 'popup' } }))).toMatchObject({
      ok: false,
      kind: 'rejected',
    })
    expect(
      await channel.send(
        message('x2', cy.profileId, { content: { text: 'hi', url: 'javascript:alert(1)' } }),
      ),
    ).toMatchObject({ ok: false, kind: 'rejected' })
    const noInbox = openChannel('in_app', {}, { clock: w.clock, dataDir: '/nonexistent' })
    if (!noInbox.ok) throw new Error('config')
    expect(await noInbox.channel.send(message('x3', cy.profileId))).toMatchObject({
      ok: false,
      kind: 'misconfigured',
    })
  })

  it('serves the widget as JavaScript, and answers CORS preflights', async () => {
    const js = await w.app.inject({ method: 'GET', url: '/widget.js' })
    expect(js.statusCode).toBe(200)
    expect(js.headers['content-type']).toBe('application/javascript; charset=utf-8')
    expect(js.body).toContain('/v1/in-app/messages')
    const pre = await w.app.inject({
      method: 'OPTIONS',
      url: '/v1/in-app/messages',
      headers: { origin: 'https://community.example', 'access-control-request-method': 'GET' },
    })
    expect(pre.statusCode).toBe(204)
    expect(pre.headers['access-control-allow-headers']).toContain('x-nudge-user')
  })

  it('stores a browser push subscription for the member and removes it when it expires', async () => {
    const dee = await addMember(w.db, 'dee')
    const sub = {
      endpoint: 'https://push.example/send/abc',
      keys: {
        p256dh: Buffer.alloc(65, 4).toString('base64url'),
        auth: Buffer.alloc(16, 1).toString('base64url'),
      },
      expirationTime: null,
    }
    const ok = await w.app.inject({
      method: 'POST',
      url: '/v1/push/subscriptions',
      headers: auth('dee'),
      payload: sub,
    })
    expect(ok.statusCode).toBe(201)
    expect(await pushSubscriptionsOf(w.db, WS, dee.profileId)).toEqual([
      { endpoint: sub.endpoint, keys: sub.keys },
    ])

    const bad = await w.app.inject({
      method: 'POST',
      url: '/v1/push/subscriptions',
      headers: auth('dee'),
      payload: { ...sub, endpoint: 'http://push.example/plain' },
    })
    expect(bad.statusCode).toBe(400)
    expect(bad.json().error.message).toContain('https')
    const stranger = await w.app.inject({
      method: 'POST',
      url: '/v1/push/subscriptions',
      headers: auth('dee', memberToken(secret, 'ann')),
      payload: sub,
    })
    expect(stranger.statusCode).toBe(401)

    expect(await removePushSubscription(w.db, WS, sub.endpoint)).toBe(1)
    expect(await pushSubscriptionsOf(w.db, WS, dee.profileId)).toEqual([])
  })
})
