// Email delivery reports over SMTP, with real peers on both sides: the dispatcher sends a
// mail to a real SMTP server with the envelope sender bounce+<handle>@<inbound domain>,
// and an MTA's report (multipart/report, as Postfix or Exim build it) comes back over SMTP
// to Nudge's inbound listener.
import nodemailer from 'nodemailer'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { bounceHandleOfAddress } from '../../src/domain/messages/bounce-address.ts'
import { silentLogger } from '../../src/log.ts'
import { type InboundSmtp, startInboundSmtp } from '../../src/runtime/inbound-smtp.ts'
import { reportsOf } from '../../src/store/delivery-reports.ts'
import { enqueueMessages, getMessage } from '../../src/store/messages.ts'
import { isSuppressed } from '../../src/store/suppressions.ts'
import { saveTemplates } from '../../src/store/workspace-templates.ts'
import { type SmtpPeer, startSmtp } from '../channels/peers.ts'
import { describeEachDriver } from '../helpers/db.ts'
import { codeMessage } from '../helpers/messages.ts'
import { makeWorld, type World } from '../helpers/world.ts'
import { loggedEvents } from './helpers.ts'

const WS = 'default'
const DOMAIN = 'in.example.com'

/** A DSN as an MTA writes it: a human part, the delivery-status part, the original headers. */
function dsn(o: {
  to: string
  recipient: string
  action: string
  status: string
  diagnostic?: string
  id?: string
}): string {
  return [
    'From: Mail Delivery System <MAILER-DAEMON@mx.example.org>',
    `To: <${o.to}>`,
    'Subject: Undelivered Mail Returned to Sender',
    `Message-ID: <${o.id ?? 'dsn-1'}@mx.example.org>`,
    'Date: Mon, 2 Mar 2026 10:05:00 +0000',
    'MIME-Version: 1.0',
    'Content-Type: multipart/report; report-type=delivery-status; boundary="=_dsn_boundary"',
    '',
    '--=_dsn_boundary',
    'Content-Type: text/plain; charset=us-ascii',
    '',
    'This is the mail system at host mx.example.org.',
    "I'm sorry to have to inform you that your message could not be delivered.",
    '',
    '--=_dsn_boundary',
    'Content-Type: message/delivery-status',
    '',
    'Reporting-MTA: dns; mx.example.org',
    'Arrival-Date: Mon, 2 Mar 2026 10:00:01 +0000',
    '',
    `Final-Recipient: rfc822; ${o.recipient}`,
    `Original-Recipient: rfc822;${o.recipient}`,
    `Action: ${o.action}`,
    `Status: ${o.status}`,
    'Remote-MTA: dns; mail.example.com',
    ...(o.diagnostic ? [`Diagnostic-Code: smtp; ${o.diagnostic}`] : []),
    '',
    '--=_dsn_boundary',
    'Content-Type: text/rfc822-headers',
    '',
    'From: Photo Club <hello@photoclub.example>',
    `To: ${o.recipient}`,
    'Subject: Your code',
    '',
    '--=_dsn_boundary--',
    '',
  ].join('\r\n')
}

/** An ARF complaint as a mailbox provider's feedback loop sends it. */
function arf(to: string, recipient: string): string {
  return [
    'From: Feedback Loop <fbl@isp.example>',
    `To: <${to}>`,
    'Subject: Email Feedback Report',
    'Message-ID: <arf-1@isp.example>',
    'MIME-Version: 1.0',
    'Content-Type: multipart/report; report-type=feedback-report; boundary="=_arf"',
    '',
    '--=_arf',
    'Content-Type: text/plain',
    '',
    'This is an email abuse report for an email message received from IP 192.0.2.1.',
    '--=_arf',
    'Content-Type: message/feedback-report',
    '',
    'Feedback-Type: abuse',
    'User-Agent: SomeFBL/1.0',
    'Version: 1',
    `Original-Mail-From: <${to}>`,
    `Original-Rcpt-To: <${recipient}>`,
    'Arrival-Date: Mon, 2 Mar 2026 10:00:02 +0000',
    '',
    '--=_arf',
    'Content-Type: text/rfc822-headers',
    '',
    'From: Photo Club <hello@photoclub.example>',
    `To: ${recipient}`,
    'Subject: Your code',
    '',
    '--=_arf--',
    '',
  ].join('\r\n')
}

describeEachDriver('email delivery reports over SMTP', (driver) => {
  let world: World
  let outbound: SmtpPeer
  let inbound: InboundSmtp
  let n = 0

  beforeAll(async () => {
    outbound = await startSmtp()
    world = await makeWorld(driver, '2026-03-02T10:00:00Z', {
      sending: { env: { NUDGE_SMTP_URL: outbound.url }, inboundDomain: DOMAIN },
    })
    inbound = await startInboundSmtp({
      db: world.db,
      clock: world.clock,
      log: silentLogger,
      port: 0,
      host: '127.0.0.1',
    })
    await saveTemplates(
      world.db,
      WS,
      [
        {
          name: 'code',
          channel: 'email',
          category: 'transactional',
          subject: 'Your code',
          text: 'It is 1234',
        },
      ],
      world.clock.now(),
    )
  })
  afterAll(async () => {
    await inbound.close()
    await world.close()
    await outbound.close()
  })

  /** A real send through the dispatcher: the mail the SMTP server got and its envelope sender. */
  async function sendTo(userId: string, email: string) {
    await world.identify(userId, { email })
    const [p] = await world.db.query<{ profile_id: string }>(
      'SELECT profile_id FROM profiles WHERE user_id = $1',
      [userId],
    )
    const messageId = `msg-${userId}-${++n}`
    await enqueueMessages(world.db, [codeMessage(WS, p!.profile_id, messageId, world.clock.now())])
    const before = outbound.received.length
    await world.workers.drain()
    const mail = outbound.received[before]
    return { messageId, mail, envelopeFrom: mail?.from ?? '' }
  }

  /** Submits a report like an MTA: null envelope sender, to the bounce address. */
  const submit = (to: string, raw: string) =>
    nodemailer
      .createTransport({ host: '127.0.0.1', port: inbound.port, secure: false, ignoreTLS: true })
      .sendMail({ envelope: { from: '', to }, raw })

  const eventsOf = async (name: string, messageId: string) =>
    (await loggedEvents(world.db, name)).filter((e) => e.properties.message_id === messageId)

  it('a hard bounce (failed, 5.1.1) bounces the message once, suppresses the address, and stops the next mail', async () => {
    const { messageId, mail, envelopeFrom } = await sendTo('ann', 'ann@example.com')
    expect(mail?.to).toEqual(['ann@example.com'])
    expect(envelopeFrom).toMatch(/^bounce\+[a-z2-7]{24}@in\.example\.com$/)
    expect((await getMessage(world.db, WS, messageId))?.status).toBe('sent')

    world.clock.advance(300_000)
    const report = dsn({
      to: envelopeFrom,
      recipient: 'ann@example.com',
      action: 'failed',
      status: '5.1.1',
      diagnostic:
        '550 5.1.1 <ann@example.com>: Recipient address rejected: User unknown in virtual mailbox table',
    })
    const info = await submit(envelopeFrom, report)
    expect(info.accepted).toEqual([envelopeFrom])

    const bounced = await getMessage(world.db, WS, messageId)
    expect(bounced?.status).toBe('bounced')
    expect(bounced?.reason).toBe(
      'DSN failed: 5.1.1 550 5.1.1 <ann@example.com>: Recipient address rejected: User unknown in virtual mailbox table',
    )
    const events = await eventsOf('Message Bounced', messageId)
    expect(events).toHaveLength(1)
    expect(events[0]?.user_id).toBe('ann')
    expect(events[0]?.properties).toMatchObject({ channel: 'email', bounce: 'hard', status: '5.1.1' })
    expect(await isSuppressed(world.db, WS, { kind: 'email', value: 'ANN@example.com' })).toBe(true)
    const [sup] = await world.db.query<{ reason: string; channel: string }>(
      `SELECT reason, channel FROM suppressions WHERE workspace_id = $1 AND kind = 'email'`,
      [WS],
    )
    expect(sup).toEqual({ reason: 'hard_bounce', channel: 'email' })

    // The MTA sends the same report again: accepted, and nothing changes.
    await submit(envelopeFrom, report)
    expect(await eventsOf('Message Bounced', messageId)).toHaveLength(1)
    expect(await reportsOf(world.db, WS, messageId)).toMatchObject([
      { source: 'dsn', kind: 'bounced_hard', status: '5.1.1' },
    ])

    // Even a transactional mail does not go to an address that does not exist.
    const next = await sendTo('ann', 'ann@example.com')
    expect(next.mail).toBeUndefined()
    expect((await getMessage(world.db, WS, next.messageId))?.status).toBe('suppressed')
  })

  it('a delayed report (4.4.1) is recorded and leaves the message as it is; a later delivered report delivers it', async () => {
    const { messageId, envelopeFrom } = await sendTo('bob', 'bob@example.com')
    await submit(
      envelopeFrom,
      dsn({
        to: envelopeFrom,
        recipient: 'bob@example.com',
        action: 'delayed',
        status: '4.4.1',
        diagnostic: '421 4.4.1 Connection timed out',
      }),
    )
    expect((await getMessage(world.db, WS, messageId))?.status).toBe('sent')
    expect(await eventsOf('Message Bounced', messageId)).toHaveLength(0)
    expect(await isSuppressed(world.db, WS, { kind: 'email', value: 'bob@example.com' })).toBe(false)

    world.clock.advance(3_600_000)
    await submit(
      envelopeFrom,
      dsn({
        to: envelopeFrom,
        recipient: 'bob@example.com',
        action: 'delivered',
        status: '2.0.0',
        id: 'dsn-2',
      }),
    )
    expect((await getMessage(world.db, WS, messageId))?.status).toBe('delivered')
    const delivered = await eventsOf('Message Delivered', messageId)
    expect(delivered).toHaveLength(1)
    expect(delivered[0]?.properties).toMatchObject({ channel: 'email', template: 'code' })
    expect((await reportsOf(world.db, WS, messageId)).map((r) => [r.kind, r.status])).toEqual([
      ['delayed', '4.4.1'],
      ['delivered', '2.0.0'],
    ])
  })

  it('a failed report with a transient status bounces the message (soft) without suppressing the address', async () => {
    const { messageId, envelopeFrom } = await sendTo('cy', 'cy@example.com')
    await submit(
      envelopeFrom,
      dsn({
        to: envelopeFrom,
        recipient: 'cy@example.com',
        action: 'failed',
        status: '4.4.7',
        diagnostic: 'delivery time expired',
      }),
    )
    expect((await getMessage(world.db, WS, messageId))?.status).toBe('bounced')
    const events = await eventsOf('Message Bounced', messageId)
    expect(events[0]?.properties).toMatchObject({ bounce: 'soft', status: '4.4.7' })
    expect(await isSuppressed(world.db, WS, { kind: 'email', value: 'cy@example.com' })).toBe(false)
  })

  it('a complaint (ARF abuse report) emits Message Complained once and suppresses the address for marketing', async () => {
    const { messageId, envelopeFrom } = await sendTo('dee', 'dee@example.com')
    await submit(envelopeFrom, arf(envelopeFrom, 'dee@example.com'))
    await submit(envelopeFrom, arf(envelopeFrom, 'dee@example.com'))
    const events = await eventsOf('Message Complained', messageId)
    expect(events).toHaveLength(1)
    expect(events[0]?.properties).toMatchObject({ channel: 'email', reason: 'complaint (abuse)' })
    // The message was delivered after all: a complaint does not change its status.
    expect((await getMessage(world.db, WS, messageId))?.status).toBe('sent')
    const [sup] = await world.db.query<{ reason: string }>(
      `SELECT reason FROM suppressions WHERE workspace_id = $1 AND kind = 'email' AND reason = 'complaint'`,
      [WS],
    )
    expect(sup?.reason).toBe('complaint')
    expect(await isSuppressed(world.db, WS, { kind: 'email', value: 'dee@example.com' })).toBe(true)
  })

  it('a forged or made-up bounce handle is refused at RCPT TO with the reason, and changes nothing', async () => {
    const { messageId, envelopeFrom } = await sendTo('eve', 'eve@example.com')
    const handle = bounceHandleOfAddress(envelopeFrom) ?? ''
    // One character changed, and a row written by someone else than the dispatcher.
    const forged = `bounce+${handle.slice(0, -1)}${handle.endsWith('a') ? 'b' : 'a'}@${DOMAIN}`
    await world.db.query(
      `INSERT INTO bounce_handles (handle, workspace_id, profile_id, message_id, created_at)
       SELECT $1, workspace_id, profile_id, message_id, created_at FROM bounce_handles WHERE handle = $2`,
      [forged.slice(7, 31), handle],
    )
    for (const to of [forged, `bounce+${'a'.repeat(24)}@${DOMAIN}`]) {
      const refused = submit(to, dsn({ to, recipient: 'eve@example.com', action: 'failed', status: '5.1.1' }))
      await expect(refused).rejects.toMatchObject({ responseCode: 550 })
      await expect(refused).rejects.toThrow(/Unknown bounce address: this handle was not handed out by Nudge/)
    }
    expect((await getMessage(world.db, WS, messageId))?.status).toBe('sent')
    expect(await reportsOf(world.db, WS, messageId)).toEqual([])
    expect(await isSuppressed(world.db, WS, { kind: 'email', value: 'eve@example.com' })).toBe(false)
  })

  it('a mail to a bounce address that is no report (an out-of-office reply) is refused, not dropped', async () => {
    const { messageId, envelopeFrom } = await sendTo('fay', 'fay@example.com')
    const sent = nodemailer
      .createTransport({ host: '127.0.0.1', port: inbound.port, secure: false, ignoreTLS: true })
      .sendMail({
        from: 'fay@example.com',
        to: envelopeFrom,
        subject: 'Out of office',
        text: 'Back on Monday.',
      })
    await expect(sent).rejects.toThrow(/5\.6\.0 Not accepted: only delivery status notifications/)
    expect(await reportsOf(world.db, WS, messageId)).toEqual([])
  })
})
