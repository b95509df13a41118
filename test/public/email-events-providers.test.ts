// Postmark and SendGrid webhooks for email. Postmark: HTTP Basic credentials in the webhook
// URL, the mail found by the metadata Nudge gave it. SendGrid: its Signed Event Webhook,
// signed here as SendGrid's documentation says (ECDSA P-256 with SHA-256 over the timestamp
// then the raw body, the DER signature in base64; the verification key as base64 DER),
// with a key pair made for the test, not with Nudge's code; the mail found by its smtp-id.
import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { buildApp } from '../../src/http/app.ts'
import { silentLogger } from '../../src/log.ts'
import { putChannelConfig } from '../../src/store/channel-configs.ts'
import { reportsOf } from '../../src/store/delivery-reports.ts'
import { getMessage } from '../../src/store/messages.ts'
import { isSuppressed } from '../../src/store/suppressions.ts'
import { type SmtpPeer, startSmtp } from '../channels/peers.ts'
import { describeEachDriver } from '../helpers/db.ts'
import { makeWorld, type World as WorkerWorld } from '../helpers/world.ts'
import {
  addMember,
  annWithCodeMail,
  loggedEvents,
  messageRow,
  openWorld,
  sentMessage,
  type World,
  WS,
} from './helpers.ts'

const POSTMARK = { webhookUser: 'postmark', webhookPassword: 'pm-0123456789abcdef' }
const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`

const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
/** As SendGrid's dashboard shows the verification key: base64 of the DER public key. */
const verificationKey = (k: KeyObject) => k.export({ format: 'der', type: 'spki' }).toString('base64')
const SENDGRID_KEY = verificationKey(publicKey)

function sendgridHeaders(body: string, key = privateKey, timestamp = '1772445600') {
  const signature = sign('sha256', Buffer.from(timestamp + body), { key, dsaEncoding: 'der' }).toString(
    'base64',
  )
  return {
    'content-type': 'application/json',
    'x-twilio-email-event-webhook-signature': signature,
    'x-twilio-email-event-webhook-timestamp': timestamp,
  }
}

describeEachDriver('Postmark and SendGrid email events', (driver) => {
  let w: World
  beforeAll(async () => {
    w = await openWorld(driver)
    await putChannelConfig(
      w.db,
      WS,
      'email',
      {
        url: 'smtp://user:pw@smtp.example.com:587',
        postmark: POSTMARK,
        sendgrid: { webhookPublicKey: SENDGRID_KEY },
      },
      w.clock.now(),
    )
  })
  afterAll(() => w.close())

  async function mailSent(userId: string, email: string, providerId: string) {
    const member = await addMember(w.db, userId, { email })
    return sentMessage(w.db, member.profileId, { sentAt: w.clock.now(), providerId })
  }

  const postmark = (body: unknown, auth = basic(POSTMARK.webhookUser, POSTMARK.webhookPassword), ws = WS) =>
    w.app.inject({
      method: 'POST',
      url: `/email/events/postmark/${ws}`,
      headers: auth ? { authorization: auth } : {},
      payload: body as object,
    })

  const sendgrid = (events: unknown, headers?: Record<string, string>, ws = WS) => {
    const body = JSON.stringify(events)
    return w.app.inject({
      method: 'POST',
      url: `/email/events/sendgrid/${ws}`,
      headers: headers ?? sendgridHeaders(body),
      payload: body,
    })
  }

  it('Postmark: a hard bounce bounces the message once and suppresses the address', async () => {
    const messageId = await mailSent('ann', 'ann@example.com', '<pm1111@photoclub.example>')
    const bounce = {
      RecordType: 'Bounce',
      ID: 4323372036854775,
      Type: 'HardBounce',
      TypeCode: 1,
      Name: 'Hard bounce',
      MessageID: '883953f4-6105-42a2-a16a-77a8eac79483',
      Description: 'The server was unable to deliver your message (ex: unknown user, mailbox not found).',
      Details: 'smtp;550 5.1.1 The email account that you tried to reach does not exist',
      Email: 'ann@example.com',
      BouncedAt: '2026-03-02T10:00:00Z',
      Metadata: { 'nudge-message-id': 'pm1111@photoclub.example' },
    }
    const res = await postmark(bounce)
    expect(res.statusCode).toBe(200)
    expect(res.json()).toEqual({ ok: true, recorded: true, messageId })
    expect((await postmark(bounce)).json()).toEqual({ ok: true, recorded: false, messageId })
    const row = await messageRow(w.db, messageId)
    expect(row?.status).toBe('bounced')
    expect(row?.reason).toBe(
      'Postmark bounced (HardBounce): smtp;550 5.1.1 The email account that you tried to reach does not exist',
    )
    const bounces = (await loggedEvents(w.db, 'Message Bounced')).filter(
      (x) => x.properties.message_id === messageId,
    )
    expect(bounces).toHaveLength(1)
    expect(bounces[0]?.properties).toMatchObject({ bounce: 'hard', status: '5.1.1' })
    expect(await isSuppressed(w.db, WS, { kind: 'email', value: 'ann@example.com' })).toBe(true)
    expect(await reportsOf(w.db, WS, messageId)).toMatchObject([{ source: 'postmark', kind: 'bounced_hard' }])
  })

  it('Postmark: a delivery delivers, a transient bounce only waits, a complaint suppresses, an open is left alone', async () => {
    const messageId = await mailSent('bob', 'bob@example.com', '<pm2222@photoclub.example>')
    const meta = { 'nudge-message-id': 'pm2222@photoclub.example' }
    const transient = await postmark({
      RecordType: 'Bounce',
      ID: 11,
      Type: 'Transient',
      Details: '451 4.4.1 try again later',
      Email: 'bob@example.com',
      Metadata: meta,
    })
    expect(transient.json()).toEqual({ ok: true, recorded: false, messageId })
    expect((await messageRow(w.db, messageId))?.status).toBe('sent')
    const delivered = await postmark({
      RecordType: 'Delivery',
      MessageID: 'a3c5c7a6-7f4e-4b0e-9d3f-0f9f6d8f0a11',
      Recipient: 'bob@example.com',
      DeliveredAt: '2026-03-02T10:00:05Z',
      Details: 'smtp;250 2.0.0 OK',
      Metadata: meta,
    })
    expect(delivered.json()).toEqual({ ok: true, recorded: true, messageId })
    expect((await messageRow(w.db, messageId))?.status).toBe('delivered')
    const opened = await postmark({
      RecordType: 'Open',
      MessageID: 'x',
      Recipient: 'bob@example.com',
      Metadata: meta,
    })
    expect(opened.json()).toEqual({ ok: true, recorded: false })
    const complaint = await postmark({
      RecordType: 'SpamComplaint',
      ID: 12,
      Type: 'SpamComplaint',
      Email: 'bob@example.com',
      Metadata: meta,
    })
    expect(complaint.json()).toEqual({ ok: true, recorded: true, messageId })
    expect(
      (await loggedEvents(w.db, 'Message Complained')).filter((x) => x.properties.message_id === messageId),
    ).toHaveLength(1)
    expect(await isSuppressed(w.db, WS, { kind: 'email', value: 'bob@example.com' })).toBe(true)
    expect((await reportsOf(w.db, WS, messageId)).map((r) => r.kind)).toEqual([
      'delayed',
      'delivered',
      'complained',
    ])
  })

  it('Postmark: wrong or missing credentials are refused with 401 and change nothing', async () => {
    const messageId = await mailSent('cy', 'cy@example.com', '<pm3333@photoclub.example>')
    const bounce = {
      RecordType: 'Bounce',
      ID: 21,
      Type: 'HardBounce',
      Email: 'cy@example.com',
      Metadata: { 'nudge-message-id': 'pm3333@photoclub.example' },
    }
    for (const auth of [
      basic(POSTMARK.webhookUser, 'pm-wrong-password-0000'),
      basic('someone', POSTMARK.webhookPassword),
      'Bearer pm-0123456789abcdef',
      '',
    ]) {
      const res = await postmark(bounce, auth)
      expect(res.statusCode).toBe(401)
      expect(res.json().error.code).toBe('NUDGE_ERR_UNAUTHORIZED')
      expect(res.headers['www-authenticate']).toMatch(/^Basic/)
    }
    // A workspace without Postmark credentials accepts nothing.
    expect((await postmark(bounce, undefined, 'elsewhere')).statusCode).toBe(401)
    expect((await messageRow(w.db, messageId))?.status).toBe('sent')
    expect(await isSuppressed(w.db, WS, { kind: 'email', value: 'cy@example.com' })).toBe(false)
  })

  it('SendGrid: a batch of events, each applied once, by its smtp-id', async () => {
    const bounced = await mailSent('dee', 'dee@example.com', '<sg1111@photoclub.example>')
    const delivered = await mailSent('eve', 'eve@example.com', '<sg2222@photoclub.example>')
    const events = [
      {
        email: 'dee@example.com',
        timestamp: 1772445600,
        'smtp-id': '<sg1111@photoclub.example>',
        event: 'bounce',
        type: 'bounce',
        status: '5.1.1',
        reason: '550 5.1.1 The email account that you tried to reach does not exist',
        sg_event_id: 'ZGVsaXZlcmVkLTAtMjQ0OTY4MzAtZjUw',
        sg_message_id: 'sg1.filter0001',
      },
      {
        email: 'eve@example.com',
        timestamp: 1772445601,
        'smtp-id': '<sg2222@photoclub.example>',
        event: 'deferred',
        response: '400 try again later',
        attempt: '1',
        sg_event_id: 'ZGVmZXJyZWQtMS0yNDQ5NjgzMC1mNTA',
      },
      {
        email: 'eve@example.com',
        timestamp: 1772445660,
        'smtp-id': '<sg2222@photoclub.example>',
        event: 'delivered',
        response: '250 OK',
        sg_event_id: 'ZGVsaXZlcmVkLTEtMjQ0OTY4MzAtZjUw',
      },
      { email: 'eve@example.com', timestamp: 1772445700, event: 'open', sg_event_id: 'b3Blbi0xLTI0NDk2ODMw' },
    ]
    const res = await sendgrid(events)
    expect(res.statusCode).toBe(200)
    expect(res.json()).toEqual({
      ok: true,
      recorded: 2,
      events: [
        { recorded: true, messageId: bounced },
        { recorded: false, messageId: delivered },
        { recorded: true, messageId: delivered },
        { recorded: false },
      ],
    })
    // SendGrid retries the post: nothing more happens.
    expect((await sendgrid(events)).json()).toMatchObject({ ok: true, recorded: 0 })
    expect((await messageRow(w.db, bounced))?.status).toBe('bounced')
    expect((await messageRow(w.db, delivered))?.status).toBe('delivered')
    expect(await isSuppressed(w.db, WS, { kind: 'email', value: 'dee@example.com' })).toBe(true)
    expect(await isSuppressed(w.db, WS, { kind: 'email', value: 'eve@example.com' })).toBe(false)
    expect(await reportsOf(w.db, WS, bounced)).toMatchObject([{ source: 'sendgrid', kind: 'bounced_hard' }])
    expect((await reportsOf(w.db, WS, delivered)).map((r) => r.kind)).toEqual(['delayed', 'delivered'])
  })

  it('SendGrid: a drop for a bounced address is a hard bounce, a blocked mail a soft one, a spam report a complaint', async () => {
    const dropped = await mailSent('fay', 'fay@example.com', '<sg3333@photoclub.example>')
    const blocked = await mailSent('gus', 'gus@example.com', '<sg4444@photoclub.example>')
    const reported = await mailSent('hal', 'hal@example.com', '<sg5555@photoclub.example>')
    const res = await sendgrid([
      {
        email: 'fay@example.com',
        'smtp-id': '<sg3333@photoclub.example>',
        event: 'dropped',
        reason: 'Bounced Address',
        sg_event_id: 'd1',
      },
      {
        email: 'gus@example.com',
        'smtp-id': '<sg4444@photoclub.example>',
        event: 'bounce',
        type: 'blocked',
        status: '5.7.1',
        reason: '550 5.7.1 rejected for policy reasons',
        sg_event_id: 'b1',
      },
      {
        email: 'hal@example.com',
        'smtp-id': '<sg5555@photoclub.example>',
        event: 'spamreport',
        sg_event_id: 's1',
      },
    ])
    expect(res.json()).toMatchObject({ ok: true, recorded: 3 })
    expect(await reportsOf(w.db, WS, dropped)).toMatchObject([{ kind: 'bounced_hard' }])
    expect(await reportsOf(w.db, WS, blocked)).toMatchObject([{ kind: 'bounced_soft' }])
    expect(await reportsOf(w.db, WS, reported)).toMatchObject([{ kind: 'complained' }])
    expect(await isSuppressed(w.db, WS, { kind: 'email', value: 'fay@example.com' })).toBe(true)
    expect(await isSuppressed(w.db, WS, { kind: 'email', value: 'gus@example.com' })).toBe(false)
    expect(await isSuppressed(w.db, WS, { kind: 'email', value: 'hal@example.com' })).toBe(true)
  })

  it('SendGrid: a signature by another key, over another body or timestamp, or missing, is refused with 403', async () => {
    const messageId = await mailSent('ida', 'ida@example.com', '<sg6666@photoclub.example>')
    const events = [
      {
        email: 'ida@example.com',
        'smtp-id': '<sg6666@photoclub.example>',
        event: 'bounce',
        status: '5.1.1',
        sg_event_id: 'x1',
      },
    ]
    const body = JSON.stringify(events)
    const other = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey
    const good = sendgridHeaders(body)
    const attempts: Array<Record<string, string>> = [
      sendgridHeaders(body, other),
      sendgridHeaders(`${body} `),
      { ...good, 'x-twilio-email-event-webhook-timestamp': '1772445601' },
      { 'content-type': 'application/json' },
    ]
    for (const headers of attempts) {
      const res = await sendgrid(events, headers)
      expect(res.statusCode).toBe(403)
      expect(res.json().error.code).toBe('NUDGE_ERR_BAD_SIGNATURE')
    }
    expect((await sendgrid(events, good, 'elsewhere')).statusCode).toBe(403)
    expect((await messageRow(w.db, messageId))?.status).toBe('sent')
    expect(await reportsOf(w.db, WS, messageId)).toEqual([])
    // Signed but not an array of events: a clear 400.
    const notArray = JSON.stringify({ event: 'bounce' })
    const bad = await w.app.inject({
      method: 'POST',
      url: `/email/events/sendgrid/${WS}`,
      headers: sendgridHeaders(notArray),
      payload: notArray,
    })
    expect(bad.statusCode).toBe(400)
    expect(bad.json().error.code).toBe('NUDGE_ERR_VALIDATION')
  })

  it('refuses to save a SendGrid key that is not a P-256 public key, or a short Postmark password', async () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey
    for (const email of [
      { sendgrid: { webhookPublicKey: 'not-a-key' } },
      { sendgrid: { webhookPublicKey: verificationKey(rsa) } },
      { postmark: { webhookUser: 'pm', webhookPassword: 'short' } },
    ]) {
      const res = await w.app.inject({
        method: 'PUT',
        url: `/api/v1/channels/email`,
        headers: { authorization: 'Bearer nak_test_admin' },
        payload: email,
      })
      expect(res.statusCode).toBe(400)
      expect(JSON.stringify(res.json())).toMatch(/webhookPublicKey|webhookPassword/)
    }
    const ok = await w.app.inject({
      method: 'PUT',
      url: '/api/v1/channels/email',
      headers: { authorization: 'Bearer nak_test_admin' },
      payload: { postmark: POSTMARK, sendgrid: { webhookPublicKey: SENDGRID_KEY } },
    })
    expect(ok.statusCode).toBe(200)
    // The password is a secret: shown back masked; the public key is not.
    expect(ok.json()).toMatchObject({
      config: { postmark: { webhookPassword: '********' }, sendgrid: { webhookPublicKey: SENDGRID_KEY } },
    })
  })
})

describeEachDriver('email sent by the dispatcher carries its Message-ID as Postmark metadata', (driver) => {
  let world: WorkerWorld
  let smtp: SmtpPeer
  afterAll(async () => {
    await world.close()
    await smtp.close()
  })

  it('adds X-PM-Metadata-nudge-message-id when Postmark is configured, and a Postmark bounce stops the next mail', async () => {
    smtp = await startSmtp()
    world = await makeWorld(driver, '2026-03-02T10:00:00Z')
    const enqueue = await annWithCodeMail(world)
    const config = { url: smtp.url, from: 'Club <hello@club.example>' }
    // Without Postmark in the config, no metadata header.
    await putChannelConfig(world.db, WS, 'email', config, world.clock.now())
    await enqueue('msg-plain')
    await world.workers.drain()
    expect(smtp.received[0]?.raw).not.toMatch(/X-PM-Metadata/i)

    await putChannelConfig(world.db, WS, 'email', { ...config, postmark: POSTMARK }, world.clock.now())
    await enqueue('msg-mail-1')
    await world.workers.drain()
    const mail = smtp.received[1]
    const header = mail?.parsed.messageId ?? ''
    expect(header).toMatch(/^<[0-9a-f]{32}@club\.example>$/)
    expect(mail?.parsed.headers.get('x-pm-metadata-nudge-message-id')).toBe(header.slice(1, -1))

    const app = await buildApp({ db: world.db, log: silentLogger, clock: world.clock })
    try {
      const res = await app.inject({
        method: 'POST',
        url: `/email/events/postmark/${WS}`,
        headers: { authorization: basic(POSTMARK.webhookUser, POSTMARK.webhookPassword) },
        payload: {
          RecordType: 'Bounce',
          ID: 99,
          Type: 'HardBounce',
          Details: '550 5.1.1 no such user',
          Email: 'ann@example.com',
          Metadata: { 'nudge-message-id': header.slice(1, -1) },
        },
      })
      expect(res.json()).toEqual({ ok: true, recorded: true, messageId: 'msg-mail-1' })
    } finally {
      await app.close()
    }
    expect((await getMessage(world.db, WS, 'msg-mail-1'))?.status).toBe('bounced')
    await enqueue('msg-mail-2')
    await world.workers.drain()
    expect(smtp.received).toHaveLength(2)
    expect((await getMessage(world.db, WS, 'msg-mail-2'))?.status).toBe('suppressed')
  })
})
