// Mailgun webhooks for email: signed as Mailgun signs them (computed here from Mailgun's
// documentation, not with Nudge's code), matched by the Message-ID Nudge gave the mail.
import { createHmac, randomBytes } from 'node:crypto'
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

const SIGNING_KEY = 'key-0123456789abcdef0123456789abcdef'

/** Mailgun: "concatenate timestamp and token values, encode the resulting string with the HMAC algorithm (using your Webhook Signing Key as a key and SHA256 digest mode), and compare the resulting hexdigest to the signature". */
function signature(key: string, timestamp = '1772445600') {
  const token = randomBytes(25).toString('hex')
  return {
    timestamp,
    token,
    signature: createHmac('sha256', key)
      .update(timestamp + token)
      .digest('hex'),
  }
}

function event(messageIdHeader: string, data: Record<string, unknown>) {
  return {
    id: `ev-${randomBytes(8).toString('hex')}`,
    timestamp: 1772445600.5,
    'log-level': 'error',
    recipient: 'ann@example.com',
    message: { headers: { 'message-id': messageIdHeader, to: 'ann@example.com', subject: 'Hi' } },
    ...data,
  }
}

describeEachDriver('Mailgun email events', (driver) => {
  let w: World
  beforeAll(async () => {
    w = await openWorld(driver)
    await putChannelConfig(
      w.db,
      WS,
      'email',
      {
        url: 'smtp://postmaster%40mg.example.com:pw@smtp.mailgun.org:587',
        mailgun: { webhookSigningKey: SIGNING_KEY },
      },
      w.clock.now(),
    )
  })
  afterAll(() => w.close())

  const post = (body: unknown, workspace = WS) =>
    w.app.inject({ method: 'POST', url: `/email/events/mailgun/${workspace}`, payload: body as object })

  async function mailSent(userId: string, email: string, providerId: string) {
    const member = await addMember(w.db, userId, { email })
    return sentMessage(w.db, member.profileId, { sentAt: w.clock.now(), providerId })
  }

  it('a permanent failure bounces the message (hard), once, and suppresses the recipient', async () => {
    const messageId = await mailSent('ann', 'ann@example.com', '<aaaa1111@photoclub.example>')
    const e = event('aaaa1111@photoclub.example', {
      event: 'failed',
      severity: 'permanent',
      reason: 'bounce',
      'delivery-status': {
        code: 550,
        'enhanced-code': '5.1.1',
        message: '5.1.1 The email account that you tried to reach does not exist',
      },
    })
    const res = await post({ signature: signature(SIGNING_KEY), 'event-data': e })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toEqual({ ok: true, recorded: true, messageId })
    // Mailgun retries the same event (same id): nothing more happens.
    expect((await post({ signature: signature(SIGNING_KEY), 'event-data': e })).json()).toEqual({
      ok: true,
      recorded: false,
      messageId,
    })

    const row = await messageRow(w.db, messageId)
    expect(row?.status).toBe('bounced')
    expect(row?.reason).toBe(
      'Mailgun failed (bounce): 550 5.1.1 The email account that you tried to reach does not exist',
    )
    const bounces = (await loggedEvents(w.db, 'Message Bounced')).filter(
      (x) => x.properties.message_id === messageId,
    )
    expect(bounces).toHaveLength(1)
    expect(bounces[0]?.properties).toMatchObject({
      bounce: 'hard',
      status: '5.1.1',
      provider_id: '<aaaa1111@photoclub.example>',
    })
    expect(await isSuppressed(w.db, WS, { kind: 'email', value: 'ann@example.com' })).toBe(true)
    expect(await reportsOf(w.db, WS, messageId)).toMatchObject([{ source: 'mailgun', kind: 'bounced_hard' }])
  })

  it('a temporary failure is recorded and changes nothing; delivered delivers', async () => {
    const messageId = await mailSent('bob', 'bob@example.com', '<bbbb2222@photoclub.example>')
    const temp = await post({
      signature: signature(SIGNING_KEY),
      'event-data': event('<bbbb2222@photoclub.example>', {
        event: 'failed',
        severity: 'temporary',
        reason: 'generic',
        recipient: 'bob@example.com',
        'delivery-status': { code: 452, message: '4.2.2 Mailbox full' },
      }),
    })
    expect(temp.json()).toEqual({ ok: true, recorded: false, messageId })
    expect((await messageRow(w.db, messageId))?.status).toBe('sent')
    expect(await isSuppressed(w.db, WS, { kind: 'email', value: 'bob@example.com' })).toBe(false)

    w.clock.advance(600_000)
    const ok = await post({
      signature: signature(SIGNING_KEY),
      'event-data': event('bbbb2222@photoclub.example', {
        event: 'delivered',
        recipient: 'bob@example.com',
        'delivery-status': { code: 250, message: 'OK' },
      }),
    })
    expect(ok.json()).toEqual({ ok: true, recorded: true, messageId })
    expect((await messageRow(w.db, messageId))?.status).toBe('delivered')
    expect(
      (await loggedEvents(w.db, 'Message Delivered')).filter((x) => x.properties.message_id === messageId),
    ).toHaveLength(1)
    expect((await reportsOf(w.db, WS, messageId)).map((r) => r.kind)).toEqual(['delayed', 'delivered'])
  })

  it('a complaint emits Message Complained and suppresses the address; opens are left to the pixel', async () => {
    const messageId = await mailSent('cy', 'cy@example.com', '<cccc3333@photoclub.example>')
    const res = await post({
      signature: signature(SIGNING_KEY),
      'event-data': event('cccc3333@photoclub.example', { event: 'complained', recipient: 'cy@example.com' }),
    })
    expect(res.json()).toEqual({ ok: true, recorded: true, messageId })
    const complaints = (await loggedEvents(w.db, 'Message Complained')).filter(
      (x) => x.properties.message_id === messageId,
    )
    expect(complaints).toHaveLength(1)
    const [sup] = await w.db.query<{ reason: string }>(
      `SELECT reason FROM suppressions WHERE workspace_id = $1 AND kind = 'email' AND reason = 'complaint'`,
      [WS],
    )
    expect(sup?.reason).toBe('complaint')

    const opened = await post({
      signature: signature(SIGNING_KEY),
      'event-data': event('cccc3333@photoclub.example', { event: 'opened', recipient: 'cy@example.com' }),
    })
    expect(opened.json()).toEqual({ ok: true, recorded: false })
    expect((await messageRow(w.db, messageId))?.status).toBe('sent')
  })

  it('a wrong, missing or replayed-with-another-token signature is refused with 403 and changes nothing', async () => {
    const messageId = await mailSent('dee', 'dee@example.com', '<dddd4444@photoclub.example>')
    const e = event('dddd4444@photoclub.example', {
      event: 'failed',
      severity: 'permanent',
      reason: 'bounce',
      recipient: 'dee@example.com',
      'delivery-status': { code: 550, 'enhanced-code': '5.1.1', message: 'no such user' },
    })
    const good = signature(SIGNING_KEY)
    const attempts = [
      { signature: signature('key-another-workspace-signing-key'), 'event-data': e },
      { signature: { ...good, token: randomBytes(25).toString('hex') }, 'event-data': e },
      { signature: { ...good, timestamp: '1772449200' }, 'event-data': e },
      { 'event-data': e },
    ]
    for (const body of attempts) {
      const res = await post(body)
      expect(res.statusCode).toBe(403)
      expect(res.json().error.code).toBe('NUDGE_ERR_BAD_SIGNATURE')
    }
    // A workspace without a signing key accepts nothing.
    expect((await post({ signature: good, 'event-data': e }, 'elsewhere')).statusCode).toBe(403)

    expect((await messageRow(w.db, messageId))?.status).toBe('sent')
    expect(await isSuppressed(w.db, WS, { kind: 'email', value: 'dee@example.com' })).toBe(false)
    expect(await reportsOf(w.db, WS, messageId)).toEqual([])
  })

  it('an event about a mail Nudge never sent answers 200 and records nothing', async () => {
    const before = (await loggedEvents(w.db)).length
    const res = await post({
      signature: signature(SIGNING_KEY),
      'event-data': event('unknown@elsewhere.example', {
        event: 'failed',
        severity: 'permanent',
        reason: 'bounce',
        recipient: 'zed@example.com',
      }),
    })
    expect(res.json()).toEqual({ ok: true, recorded: false })
    expect(await loggedEvents(w.db)).toHaveLength(before)
    expect(await isSuppressed(w.db, WS, { kind: 'email', value: 'zed@example.com' })).toBe(false)
  })
})

describeEachDriver('email sent by the dispatcher, reported back by Mailgun', (driver) => {
  let world: WorkerWorld
  let smtp: SmtpPeer
  afterAll(async () => {
    await world.close()
    await smtp.close()
  })

  it('finds the message by the Message-ID the dispatcher gave the mail, and a hard bounce stops the next one', async () => {
    smtp = await startSmtp()
    world = await makeWorld(driver, '2026-03-02T10:00:00Z')
    await putChannelConfig(
      world.db,
      WS,
      'email',
      { url: smtp.url, from: 'Club <hello@club.example>', mailgun: { webhookSigningKey: SIGNING_KEY } },
      world.clock.now(),
    )
    const enqueue = await annWithCodeMail(world)
    await enqueue('msg-mail-1')
    await world.workers.drain()
    const header = smtp.received[0]?.parsed.messageId ?? ''
    expect(header).toMatch(/^<[0-9a-f]{32}@club\.example>$/)

    const app = await buildApp({ db: world.db, log: silentLogger, clock: world.clock })
    try {
      const res = await app.inject({
        method: 'POST',
        url: `/email/events/mailgun/${WS}`,
        payload: {
          signature: signature(SIGNING_KEY),
          'event-data': event(header.slice(1, -1), {
            event: 'failed',
            severity: 'permanent',
            reason: 'bounce',
            'delivery-status': { code: 550, 'enhanced-code': '5.1.1', message: 'no such user' },
          }),
        },
      })
      expect(res.json()).toEqual({ ok: true, recorded: true, messageId: 'msg-mail-1' })
    } finally {
      await app.close()
    }
    expect((await getMessage(world.db, WS, 'msg-mail-1'))?.status).toBe('bounced')
    await enqueue('msg-mail-2')
    await world.workers.drain()
    expect(smtp.received).toHaveLength(1)
    expect((await getMessage(world.db, WS, 'msg-mail-2'))?.status).toBe('suppressed')
  })
})
