import { createHmac } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/http/app.ts'
import { silentLogger } from '../../src/log.ts'
import { withDeliveryReports } from '../../src/runtime/dispatch/channel-pool.ts'
import { putChannelConfig } from '../../src/store/channel-configs.ts'
import { enqueueMessages, getMessage } from '../../src/store/messages.ts'
import { isSuppressed } from '../../src/store/suppressions.ts'
import { saveTemplates } from '../../src/store/workspace-templates.ts'
import { type HttpPeer, startHttp } from '../channels/peers.ts'
import { describeEachDriver } from '../helpers/db.ts'
import { codeMessage } from '../helpers/messages.ts'
import { makeWorld, type World as WorkerWorld } from '../helpers/world.ts'
import { addMember, loggedEvents, messageRow, openWorld, sentMessage, type World, WS } from './helpers.ts'

const PUBLIC_URL = 'https://nudge.example'
const AUTH_TOKEN = 'twilio-auth-token-0123'

/** Written from Twilio's "Validating requests" page: URL, then each POST name and value, sorted by name. */
function sign(token: string, url: string, params: Record<string, string>): string {
  let data = url
  for (const name of Object.keys(params).sort()) data += name + params[name]
  return createHmac('sha1', token).update(data).digest('base64')
}

describeEachDriver('SMS delivery reports (Twilio status callback)', (driver) => {
  let w: World
  beforeAll(async () => {
    w = await openWorld(driver, { publicUrl: PUBLIC_URL })
    await putChannelConfig(
      w.db,
      WS,
      'sms',
      { accountSid: `AC${'0'.repeat(32)}`, authToken: AUTH_TOKEN, from: '+15005550006' },
      w.clock.now(),
    )
  })
  afterAll(() => w.close())

  const path = `/sms/status/${WS}`
  const callback = (
    params: Record<string, string>,
    signature = sign(AUTH_TOKEN, PUBLIC_URL + path, params),
  ) =>
    w.app.inject({
      method: 'POST',
      url: path,
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature },
      payload: new URLSearchParams(params).toString(),
    })
  const report = (sid: string, status: string, extra: Record<string, string> = {}) => ({
    AccountSid: `AC${'0'.repeat(32)}`,
    MessageSid: sid,
    SmsSid: sid,
    MessageStatus: status,
    SmsStatus: status,
    To: '+33612345678',
    From: '+15005550006',
    ApiVersion: '2010-04-01',
    ...extra,
  })

  /** An SMS the dispatcher handed to Twilio for a member, with its SID. */
  async function smsSent(userId: string, phone: string, sidDigit: string) {
    const member = await addMember(w.db, userId, { phone })
    const sid = `SM${sidDigit.repeat(32)}`
    const messageId = await sentMessage(w.db, member.profileId, {
      channel: 'sms',
      sentAt: w.clock.now(),
      providerId: sid,
    })
    return { sid, messageId }
  }

  it('delivered: the message is delivered and Message Delivered is emitted once, however often Twilio reports', async () => {
    const { sid, messageId } = await smsSent('ann', '+33612345678', 'a')
    // Progress reports before the outcome change nothing.
    expect((await callback(report(sid, 'sent'))).statusCode).toBe(200)
    expect((await messageRow(w.db, messageId))?.status).toBe('sent')

    w.clock.advance(5_000)
    const first = await callback(report(sid, 'delivered'))
    expect(first.statusCode).toBe(200)
    expect(first.json()).toEqual({ ok: true, recorded: true, messageId })
    const again = await callback(report(sid, 'delivered'))
    expect(again.statusCode).toBe(200)
    expect(again.json()).toEqual({ ok: true, recorded: false })

    expect((await messageRow(w.db, messageId))?.status).toBe('delivered')
    const events = (await loggedEvents(w.db, 'Message Delivered')).filter(
      (e) => e.properties.message_id === messageId,
    )
    expect(events).toHaveLength(1)
    expect(events[0]?.user_id).toBe('ann')
    expect(events[0]?.properties).toMatchObject({
      channel: 'sms',
      provider_id: sid,
      journey_id: 'onboarding',
    })
  })

  it('never moves a clicked message back to delivered', async () => {
    const { sid, messageId } = await smsSent('cy', '+33600000003', 'c')
    await w.db.query(`UPDATE messages SET status = 'clicked' WHERE message_id = $1`, [messageId])
    expect((await callback(report(sid, 'delivered'))).json()).toEqual({ ok: true, recorded: false })
    expect((await messageRow(w.db, messageId))?.status).toBe('clicked')
  })

  it('undelivered with a permanent recipient code: bounced with the code, one event, the phone suppressed for SMS', async () => {
    const { sid, messageId } = await smsSent('bob', '+33 6 11 22 33 44', 'b')
    const params = report(sid, 'undelivered', { ErrorCode: '30003', To: '+33611223344' })
    expect((await callback(params)).json()).toEqual({ ok: true, recorded: true, messageId })
    expect((await callback(params)).json()).toEqual({ ok: true, recorded: false })

    const row = await messageRow(w.db, messageId)
    expect(row?.status).toBe('bounced')
    expect(row?.reason).toBe('Twilio 30003: undelivered')
    const bounces = (await loggedEvents(w.db, 'Message Bounced')).filter(
      (e) => e.properties.message_id === messageId,
    )
    expect(bounces).toHaveLength(1)
    expect(bounces[0]?.properties).toMatchObject({ reason: 'Twilio 30003: undelivered', provider_id: sid })
    // The profile's phone as typed hashes the same as Twilio's E.164 form.
    expect(await isSuppressed(w.db, WS, { kind: 'phone', value: '+33 6 11 22 33 44' })).toBe(true)
    const [sup] = await w.db.query<{ reason: string; channel: string }>(
      `SELECT reason, channel FROM suppressions WHERE workspace_id = $1 AND kind = 'phone'`,
      [WS],
    )
    expect(sup).toEqual({ reason: 'hard_bounce', channel: 'sms' })
  })

  it('a failure that is not about the recipient bounces the message without suppressing the phone', async () => {
    const { sid, messageId } = await smsSent('dee', '+33600000004', 'd')
    const res = await callback(report(sid, 'failed', { ErrorCode: '30008', To: '+33600000004' }))
    expect(res.json()).toEqual({ ok: true, recorded: true, messageId })
    expect((await messageRow(w.db, messageId))?.reason).toBe('Twilio 30008: failed')
    expect(await isSuppressed(w.db, WS, { kind: 'phone', value: '+33600000004' })).toBe(false)
  })

  it('a missing or wrong signature is refused with 403 and records nothing', async () => {
    const { sid, messageId } = await smsSent('eve', '+33600000005', 'e')
    const params = report(sid, 'delivered')
    const wrongToken = await callback(params, sign('another-token-0000', PUBLIC_URL + path, params))
    expect(wrongToken.statusCode).toBe(403)
    expect(wrongToken.json().error.code).toBe('NUDGE_ERR_BAD_SIGNATURE')
    // Signed for another URL (here: without the public URL Twilio called).
    expect((await callback(params, sign(AUTH_TOKEN, path, params))).statusCode).toBe(403)
    const none = await w.app.inject({
      method: 'POST',
      url: path,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams(params).toString(),
    })
    expect(none.statusCode).toBe(403)
    // A field changed after signing.
    const signed = sign(AUTH_TOKEN, PUBLIC_URL + path, { ...params, MessageStatus: 'sent' })
    expect((await callback(params, signed)).statusCode).toBe(403)
    // A workspace without an SMS config has no token to check against.
    const other = await w.app.inject({
      method: 'POST',
      url: '/sms/status/elsewhere',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-twilio-signature': sign(AUTH_TOKEN, `${PUBLIC_URL}/sms/status/elsewhere`, params),
      },
      payload: new URLSearchParams(params).toString(),
    })
    expect(other.statusCode).toBe(403)

    expect((await messageRow(w.db, messageId))?.status).toBe('sent')
    const events = (await loggedEvents(w.db, 'Message Delivered')).filter(
      (e) => e.properties.message_id === messageId,
    )
    expect(events).toHaveLength(0)
  })

  it('an unknown SID answers 200 so Twilio stops retrying, and records nothing', async () => {
    const before = (await loggedEvents(w.db)).length
    const res = await callback(
      report(`SM${'f'.repeat(32)}`, 'undelivered', { ErrorCode: '30003', To: '+33699999999' }),
    )
    expect(res.statusCode).toBe(200)
    expect(res.json()).toEqual({ ok: true, recorded: false })
    expect(await loggedEvents(w.db)).toHaveLength(before)
    expect(await isSuppressed(w.db, WS, { kind: 'phone', value: '+33699999999' })).toBe(false)
  })
})

describe('default SMS status callback', () => {
  const sms = { accountSid: `AC${'0'.repeat(32)}`, authToken: AUTH_TOKEN, from: '+15005550006' }
  it('points at this Nudge when the workspace set none', () => {
    expect(withDeliveryReports('sms', sms, 'https://nudge.example/', 'club-1')).toEqual({
      ...sms,
      statusCallbackUrl: 'https://nudge.example/sms/status/club-1',
    })
  })
  it('keeps a callback the workspace set, and leaves other channels and missing configs alone', () => {
    const own = { ...sms, statusCallbackUrl: 'https://hooks.example/twilio' }
    expect(withDeliveryReports('sms', own, PUBLIC_URL, 'club-1')).toBe(own)
    expect(withDeliveryReports('webhook', { url: 'https://x.example' }, PUBLIC_URL, 'club-1')).toEqual({
      url: 'https://x.example',
    })
    expect(withDeliveryReports('sms', undefined, PUBLIC_URL, 'club-1')).toBeUndefined()
  })
})

describeEachDriver('SMS sent by the dispatcher, reported back by Twilio', (driver) => {
  let world: WorkerWorld
  let twilio: HttpPeer
  afterAll(async () => {
    await world.close()
    await twilio.close()
  })

  it('asks for reports at this Nudge by default; a permanent failure stops the next SMS to that number', async () => {
    let n = 0
    twilio = await startHttp((_req, res) => {
      res.statusCode = 201
      res.setHeader('content-type', 'application/json')
      res.end(JSON.stringify({ sid: `SM${String(++n).repeat(32)}`, status: 'queued' }))
    })
    world = await makeWorld(driver, '2026-03-02T10:00:00Z', { sending: { publicUrl: PUBLIC_URL } })
    const sms = {
      accountSid: `AC${'0'.repeat(32)}`,
      authToken: AUTH_TOKEN,
      from: '+15005550006',
      baseUrl: twilio.url,
    }
    await putChannelConfig(world.db, WS, 'sms', sms, world.clock.now())
    await saveTemplates(
      world.db,
      WS,
      [{ name: 'code', channel: 'sms', category: 'transactional', text: 'Your code is 1234' }],
      world.clock.now(),
    )
    await world.identify('ann', { phone: '+33 6 12 34 56 78' })
    const [ann] = await world.db.query<{ profile_id: string }>(
      `SELECT profile_id FROM profiles WHERE user_id = 'ann'`,
    )
    const enqueue = (messageId: string) =>
      enqueueMessages(world.db, [codeMessage(WS, ann!.profile_id, messageId, world.clock.now(), 'sms')])
    await enqueue('msg-sms-1')
    await world.workers.drain()
    const form = new URLSearchParams(twilio.requests[0]!.body.toString())
    expect(form.get('StatusCallback')).toBe(`${PUBLIC_URL}/sms/status/${WS}`)
    expect(form.get('To')).toBe('+33612345678')
    const sent = await getMessage(world.db, WS, 'msg-sms-1')
    expect(sent).toMatchObject({ status: 'sent', providerId: `SM${'1'.repeat(32)}` })

    const app = await buildApp({ db: world.db, log: silentLogger, clock: world.clock, publicUrl: PUBLIC_URL })
    try {
      const params = {
        MessageSid: sent!.providerId!,
        MessageStatus: 'undelivered',
        ErrorCode: '30005',
        To: form.get('To')!,
      }
      const res = await app.inject({
        method: 'POST',
        url: new URL(form.get('StatusCallback')!).pathname,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-twilio-signature': sign(AUTH_TOKEN, form.get('StatusCallback')!, params),
        },
        payload: new URLSearchParams(params).toString(),
      })
      expect(res.json()).toEqual({ ok: true, recorded: true, messageId: 'msg-sms-1' })
    } finally {
      await app.close()
    }
    expect(await getMessage(world.db, WS, 'msg-sms-1')).toMatchObject({
      status: 'bounced',
      reason: 'Twilio 30005: undelivered',
    })

    // Even a transactional SMS is not sent to a number that does not exist.
    await enqueue('msg-sms-2')
    await world.workers.drain()
    expect(twilio.requests).toHaveLength(1)
    expect((await getMessage(world.db, WS, 'msg-sms-2'))?.status).toBe('suppressed')
  })
})
