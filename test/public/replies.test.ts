import nodemailer from 'nodemailer'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { handleOfAddress, stripQuoted } from '../../src/domain/messages/reply-address.ts'
import { silentLogger } from '../../src/log.ts'
import { type InboundSmtp, startInboundSmtp } from '../../src/runtime/inbound-smtp.ts'
import { listProfileReplies, listReplies, replyToAddress } from '../../src/store/replies.ts'
import { workspaceInboundSecret } from '../../src/store/workspace-secrets.ts'
import { describeEachDriver } from '../helpers/db.ts'
import { addMember, loggedEvents, openWorld, sentMessage, type World, WS } from './helpers.ts'

describeEachDriver('replies', (driver) => {
  let w: World
  let smtp: InboundSmtp
  beforeAll(async () => {
    w = await openWorld(driver)
    smtp = await startInboundSmtp({ db: w.db, clock: w.clock, log: silentLogger, port: 0, host: '127.0.0.1' })
  })
  afterAll(async () => {
    await smtp.close()
    await w.close()
  })

  const client = () =>
    nodemailer.createTransport({ host: '127.0.0.1', port: smtp.port, secure: false, ignoreTLS: true })

  it('a reply over a real SMTP connection is threaded to the member and message, stored once, and emitted', async () => {
    const ann = await addMember(w.db, 'ann', { email: 'ann@example.com' })
    const bob = await addMember(w.db, 'bob')
    const messageId = await sentMessage(w.db, ann.profileId, { sentAt: w.clock.now() })
    await sentMessage(w.db, bob.profileId, { sentAt: w.clock.now() })
    const replyTo = await replyToAddress(
      w.db,
      { workspaceId: WS, profileId: ann.profileId, messageId },
      'in.example.com',
      w.clock.now(),
    )
    expect(replyTo).toMatch(/^reply\+[a-z2-7]{24}@in\.example\.com$/)
    // Deterministic: a retried send puts the same address on the mail.
    expect(
      await replyToAddress(
        w.db,
        { workspaceId: WS, profileId: ann.profileId, messageId },
        'in.example.com',
        w.clock.now(),
      ),
    ).toBe(replyTo)
    expect(replyTo.split('@')[0]!.length).toBeLessThanOrEqual(64)

    w.clock.advance(3600_000)
    const mail = {
      from: 'Ann <ann@example.com>',
      // Some mail systems upper-case the local part.
      to: replyTo.toUpperCase(),
      subject: 'Re: What could we improve?',
      messageId: '<reply-1@mail.example.com>',
      text: 'The search is hard to find.\nOtherwise great!\n\nOn Mon, 2 Mar 2026 at 10:00, Camille <camille@community.example> wrote:\n> What could we improve?\n',
    }
    await client().sendMail(mail)
    // The mail server redelivers (e.g. after a lost 250): stored once.
    await client().sendMail(mail)

    const replies = await listProfileReplies(w.db, WS, ann.profileId)
    expect(replies).toHaveLength(1)
    expect(replies[0]).toMatchObject({
      messageId,
      source: 'smtp',
      fromAddress: 'ann@example.com',
      subject: 'Re: What could we improve?',
      strippedText: 'The search is hard to find.\nOtherwise great!',
      receivedAt: w.clock.now(),
    })
    expect(replies[0]?.text).toContain('> What could we improve?')
    expect(await listProfileReplies(w.db, WS, bob.profileId)).toEqual([])

    const events = await loggedEvents(w.db, 'Message Replied')
    expect(events).toHaveLength(1)
    expect(events[0]?.user_id).toBe('ann')
    expect(events[0]?.properties).toMatchObject({
      message_id: messageId,
      journey_id: 'onboarding',
      step_id: 'welcome',
      template: 'welcome-mail',
      channel: 'email',
      subject: 'Re: What could we improve?',
      excerpt: 'The search is hard to find.\nOtherwise great!',
    })
  })

  it('refuses mail to any other address at RCPT TO, so it is no relay', async () => {
    const forged = 'reply+aaaaaaaaaaaaaaaaaaaaaaaa@in.example.com'
    for (const to of ['someone@example.org', forged]) {
      await expect(client().sendMail({ from: 'x@example.org', to, text: 'hi' })).rejects.toMatchObject({
        responseCode: 550,
      })
    }
    expect(await listReplies(w.db, WS)).toHaveLength(1)
  })

  it('the inbound webhook takes JSON or Mailgun form fields with the workspace inbound secret', async () => {
    const cy = await addMember(w.db, 'cy')
    const messageId = await sentMessage(w.db, cy.profileId, { sentAt: w.clock.now() })
    const to = await replyToAddress(
      w.db,
      { workspaceId: WS, profileId: cy.profileId, messageId },
      'in.example.com',
      w.clock.now(),
    )
    const secret = (await workspaceInboundSecret(w.db, WS)) ?? ''
    const json = {
      to: [`Nudge <${to}>`],
      from: 'cy@example.com',
      subject: 'Re: hi',
      text: 'Thanks!',
      messageId: '<r2@x>',
    }

    const denied = await w.app.inject({
      method: 'POST',
      url: '/v1/inbound/email',
      headers: { authorization: 'Bearer wrong' },
      payload: json,
    })
    expect(denied.statusCode).toBe(401)
    expect(await listProfileReplies(w.db, WS, cy.profileId)).toEqual([])

    const ok = await w.app.inject({
      method: 'POST',
      url: '/v1/inbound/email',
      headers: { authorization: `Bearer ${secret}` },
      payload: json,
    })
    expect(ok.statusCode).toBe(200)
    expect(ok.json()).toMatchObject({ ok: true, duplicate: false, messageId, profileId: cy.profileId })

    // Mailgun posts form fields; the secret may ride in the URL.
    const form = new URLSearchParams({
      recipient: to,
      sender: 'cy@example.com',
      subject: 'Re: hi again',
      'body-plain': 'One more thing.',
      'Message-Id': '<r3@x>',
    })
    const mg = await w.app.inject({
      method: 'POST',
      url: `/v1/inbound/email?workspace=${WS}&key=${secret}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: form.toString(),
    })
    expect(mg.statusCode).toBe(200)
    const mine = await listProfileReplies(w.db, WS, cy.profileId)
    expect(mine.map((r) => [r.source, r.strippedText]).sort()).toEqual([
      ['webhook', 'One more thing.'],
      ['webhook', 'Thanks!'],
    ])

    // SendGrid Inbound Parse posts multipart/form-data, with the envelope as JSON.
    const boundary = 'xYzZY'
    const part = (name: string, value: string) =>
      `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`
    const multipart = `${part('envelope', JSON.stringify({ to: [to], from: 'cy@example.com' }))}${part('from', 'Cy <cy@example.com>')}${part('subject', 'Re: hi, third')}${part('text', 'Last one, promise.')}${part('headers', 'Message-ID: <r4@x>')}--${boundary}\r\nContent-Disposition: form-data; name="attachment1"; filename="a.txt"\r\n\r\nignored\r\n--${boundary}--\r\n`
    const sg = await w.app.inject({
      method: 'POST',
      url: '/v1/inbound/email',
      headers: {
        'content-type': `multipart/form-data; boundary=${boundary}`,
        authorization: `Basic ${Buffer.from(`nudge:${secret}`).toString('base64')}`,
      },
      payload: multipart,
    })
    expect(sg.statusCode).toBe(200)
    expect((await listProfileReplies(w.db, WS, cy.profileId)).map((r) => r.strippedText)).toContain(
      'Last one, promise.',
    )

    const stranger = await w.app.inject({
      method: 'POST',
      url: '/v1/inbound/email',
      headers: { authorization: `Bearer ${secret}` },
      payload: { ...json, to: 'someone@example.org' },
    })
    expect(stranger.statusCode).toBe(404)
  })
})

it('reply addresses and quoted text', () => {
  expect(handleOfAddress('<REPLY+ABCDEFGHIJKLMNOPQRSTUVWX@x.example>')).toBe('abcdefghijklmnopqrstuvwx')
  expect(handleOfAddress('reply+short@x.example')).toBeUndefined()
  expect(handleOfAddress('reply+abcdefghijklmnopqrstuvwx@a@b')).toBeUndefined()
  expect(
    stripQuoted('Merci !\r\n\r\nLe lun. 2 mars 2026 à 10:00, Camille <c@x> a écrit :\r\n> Bonjour'),
  ).toBe('Merci !')
  expect(stripQuoted('Yes.\n-- \nAnn')).toBe('Yes.')
  expect(stripQuoted('Sure\n\n-----Original Message-----\nFrom: x')).toBe('Sure')
})
