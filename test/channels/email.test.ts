import { generateKeyPairSync } from 'node:crypto'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type ParsedMail, simpleParser } from 'mailparser'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { emailChannel } from '../../src/channels/email.ts'
import { messageIdFor } from '../../src/channels/email-compose.ts'
import { listMailbox, readMailboxMessage } from '../../src/channels/mailbox.ts'
import type { ChannelSender, OutgoingMessage } from '../../src/channels/types.ts'
import { FakeClock } from '../../src/domain/clock.ts'
import { compileTemplate, renderTemplate } from '../../src/domain/templates/render.ts'
import { closedPort, type SmtpPeer, startSmtp } from './peers.ts'

const clock = new FakeClock('2026-03-02T08:30:00Z')
let dataDir: string
const opened: ChannelSender[] = []

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'nudge-email-'))
})
afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true })
})
// Pooled connections first: a server waits for open connections before it closes.
const closeAll = () => Promise.all(opened.splice(0).map((c) => c.close()))
afterEach(closeAll)

function open(raw: Record<string, unknown>): ChannelSender {
  const v = emailChannel.validateConfig({
    from: 'Photo Club <hello@photoclub.example>',
    timeoutMs: 2000,
    ...raw,
  })
  if (!v.ok) throw new Error(JSON.stringify(v.issues))
  const c = emailChannel.open(v.config, { clock, dataDir })
  opened.push(c)
  return c
}

/** A header as written (mailparser folds the List-* headers into one object). */
function rawHeader(mail: ParsedMail, key: string): string | undefined {
  const line = mail.headerLines.find((h) => h.key === key)?.line
  return line?.slice(line.indexOf(':') + 1).trim()
}

function message(over: Partial<OutgoingMessage> = {}): OutgoingMessage {
  return {
    id: 'msg-1',
    idempotencyKey: 'run-42:step-welcome',
    category: 'marketing',
    to: { profileId: 'p-ann', name: 'Ann Martin', email: 'ann@example.com' },
    content: { subject: 'Welcome', text: 'Hello Ann', html: '<p>Hello Ann</p>' },
    meta: { workspaceId: 'default', profileId: 'p-ann', journeyId: 'welcome-series', topic: 'community' },
    email: {
      unsubscribeUrl: 'https://nudge.example/u/tok123',
      unsubscribeMailto: 'mailto:unsubscribe@nudge.example?subject=tok123',
    },
    ...over,
  }
}

describe('email over SMTP', () => {
  let smtp: SmtpPeer
  beforeAll(async () => {
    smtp = await startSmtp()
  })
  afterAll(() => smtp.close())

  it('sends a personalised marketing mail with RFC 8058 one-click unsubscribe headers', async () => {
    const tpl = compileTemplate({
      name: 'welcome',
      channel: 'email',
      category: 'marketing',
      subject: 'Welcome to the club, {{ profile.traits.first_name }}',
      html: '<h1>Hi {{ profile.traits.first_name }}</h1><p>Start with the <a href="https://photoclub.example/guide">beginners\' guide</a>.</p>',
    })
    if (!tpl.ok) throw new Error(tpl.error.message)
    const rendered = renderTemplate(tpl.template, {
      profile: { id: 'p-ann', traits: { first_name: 'Ann' } },
      links: {},
    })
    if (!rendered.ok) throw new Error(rendered.error.message)

    const channel = open({ url: smtp.url, replyTo: 'Replies <reply+abc@in.nudge.example>' })
    const before = smtp.received.length
    const result = await channel.send(message({ content: rendered.parts }))
    expect(result).toMatchObject({
      ok: true,
      providerId: messageIdFor('run-42:step-welcome', 'photoclub.example'),
    })

    const got = smtp.received[before]!
    expect(got.to).toEqual(['ann@example.com'])
    const mail = got.parsed
    expect(mail.subject).toBe('Welcome to the club, Ann')
    expect(mail.from?.value).toEqual([{ name: 'Photo Club', address: 'hello@photoclub.example' }])
    expect(mail.replyTo?.value).toEqual([{ name: 'Replies', address: 'reply+abc@in.nudge.example' }])
    expect(rawHeader(mail, 'list-unsubscribe-post')).toBe('List-Unsubscribe=One-Click')
    // One List-Unsubscribe header holding the HTTPS link first, then the mailto.
    expect(got.raw).toMatch(
      /^List-Unsubscribe: <https:\/\/nudge\.example\/u\/tok123>,\s*<mailto:unsubscribe@nudge\.example\?subject=tok123>/m,
    )
    expect(mail.html).toContain('<h1>Hi Ann</h1>')
    // The text part was generated from the HTML.
    expect(mail.text).toContain('Hi Ann')
    expect(mail.text).toContain("beginners' guide [https://photoclub.example/guide]")
    expect(mail.headers.get('x-nudge-message-id')).toBe('msg-1')
    expect(mail.date?.toISOString()).toBe('2026-03-02T08:30:00.000Z')
  })

  it('gives the same Message-ID to every attempt of the same send', async () => {
    const channel = open({ url: smtp.url })
    const before = smtp.received.length
    await channel.send(message())
    await channel.send(message())
    await channel.send(message({ idempotencyKey: 'run-43:step-welcome' }))
    const ids = smtp.received.slice(before).map((r) => r.parsed.messageId)
    expect(ids[0]).toBe(ids[1])
    expect(ids[2]).not.toBe(ids[0])
    expect(ids[0]).toBe(messageIdFor('run-42:step-welcome', 'photoclub.example'))
  })

  it('leaves unsubscribe headers off transactional mail, and takes a person as sender', async () => {
    const channel = open({ url: smtp.url })
    const before = smtp.received.length
    const r = await channel.send(
      message({
        category: 'transactional',
        email: { from: 'Claire Dubois <claire@photoclub.example>', replyTo: 'claire@photoclub.example' },
        content: { subject: 'A question', text: 'Hi Ann,\n\nWhat could we improve?\n\nClaire' },
      }),
    )
    expect(r.ok).toBe(true)
    const mail = smtp.received[before]!.parsed
    expect(rawHeader(mail, 'list-unsubscribe') !== undefined).toBe(false)
    expect(rawHeader(mail, 'list-unsubscribe-post') !== undefined).toBe(false)
    expect(mail.from?.value).toEqual([{ name: 'Claire Dubois', address: 'claire@photoclub.example' }])
    expect(mail.replyTo?.value).toEqual([{ name: '', address: 'claire@photoclub.example' }])
    expect(mail.html).toBe(false)
    expect(mail.text?.trim()).toBe('Hi Ann,\n\nWhat could we improve?\n\nClaire')
  })

  it('refuses marketing mail without an unsubscribe link, before any connection', async () => {
    const channel = open({ url: smtp.url })
    const before = smtp.received.length
    const r = await channel.send(message({ email: {} }))
    expect(r).toMatchObject({ ok: false, kind: 'misconfigured' })
    expect(smtp.received.length).toBe(before)
  })

  it('rejects a malformed address without sending', async () => {
    const channel = open({ url: smtp.url })
    const r = await channel.send(message({ to: { profileId: 'p', email: 'not an address' } }))
    expect(r).toMatchObject({ ok: false, kind: 'rejected' })
  })

  it('reuses pooled connections for many mails', async () => {
    const channel = open({ url: smtp.url, pool: { maxConnections: 2 } })
    const c0 = smtp.connections
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => channel.send(message({ idempotencyKey: `pool-${i}` }))),
    )
    expect(results.every((r) => r.ok)).toBe(true)
    expect(smtp.connections - c0).toBeLessThanOrEqual(2)
  })

  it('signs with DKIM, covering the List-Unsubscribe headers', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 })
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
    const channel = open({
      url: smtp.url,
      dkim: { domainName: 'photoclub.example', keySelector: 'nudge', privateKey: pem },
    })
    const before = smtp.received.length
    expect((await channel.send(message())).ok).toBe(true)
    // The raw header, unfolded: the parsed form splits it into parameters.
    const raw = smtp.received[before]!.raw.replace(/\r?\n[ \t]+/g, ' ')
    const sig = /^DKIM-Signature: (.*)$/m.exec(raw)?.[1] ?? ''
    expect(sig).toContain('d=photoclub.example')
    expect(sig).toContain('s=nudge')
    expect(sig.toLowerCase()).toMatch(/h=[^;]*list-unsubscribe:list-unsubscribe-post/)
  })
})

describe('email failures', () => {
  it('sends with the right credentials and reports wrong ones as misconfigured', async () => {
    const smtp = await startSmtp({ user: 'nudge', pass: 's3cret' })
    try {
      const good = await open({ url: smtp.url }).send(message())
      expect(good.ok).toBe(true)
      expect(smtp.received).toHaveLength(1)
      const bad = await open({ url: `smtp://nudge:wrong@127.0.0.1:${smtp.port}` }).send(message())
      expect(bad).toMatchObject({ ok: false, kind: 'misconfigured', status: 535 })
      expect(smtp.received).toHaveLength(1)
    } finally {
      await closeAll()
      await smtp.close()
    }
  })

  it('a 550 to the recipient is a hard bounce, rejected', async () => {
    const smtp = await startSmtp({ refuseRcpt: { code: 550, text: 'No such user here' } })
    try {
      const r = await open({ url: smtp.url }).send(message())
      expect(r).toMatchObject({ ok: false, kind: 'rejected', bounce: 'hard', status: 550 })
      if (!r.ok) expect(r.reason).toContain('No such user')
    } finally {
      await closeAll()
      await smtp.close()
    }
  })

  it('a 451 to the recipient is retryable', async () => {
    const smtp = await startSmtp({ refuseRcpt: { code: 451, text: 'Greylisted, try later' } })
    try {
      const r = await open({ url: smtp.url }).send(message())
      expect(r).toMatchObject({ ok: false, kind: 'retryable', status: 451 })
      expect(r.ok || r.bounce).toBeUndefined()
    } finally {
      await closeAll()
      await smtp.close()
    }
  })

  it('a refused connection is retryable, not a crash', async () => {
    const port = await closedPort()
    const r = await open({ url: `smtp://127.0.0.1:${port}` }).send(message())
    expect(r).toMatchObject({ ok: false, kind: 'retryable' })
    if (!r.ok) expect(r.reason).toContain('ECONNREFUSED')
  })

  it('rejects a config that is not an SMTP URL, saying where', () => {
    const v = emailChannel.validateConfig({ url: 'http://mail.example' })
    expect(v).toMatchObject({ ok: false, issues: [{ path: 'url' }] })
  })
})

describe('local mailbox (no SMTP configured)', () => {
  it('stores each mail as a real .eml, lists it, and a retry replaces rather than duplicates', async () => {
    const channel = open({})
    const r1 = await channel.send(message())
    const r2 = await channel.send(message())
    await channel.send(
      message({ idempotencyKey: 'other', to: { profileId: 'p-bob', email: 'bob@example.com' } }),
    )
    expect(r1).toMatchObject({ ok: true })
    expect(r1.ok && r2.ok && r1.providerId === r2.providerId).toBe(true)

    const listed = await listMailbox(dataDir, 'default')
    expect(listed.map((e) => e.to).sort()).toEqual(['ann@example.com', 'bob@example.com'])
    const files = await readdir(join(dataDir, 'mailbox', 'default'))
    expect(files.filter((f) => f.endsWith('.eml'))).toHaveLength(2)

    const ann = listed.find((e) => e.profileId === 'p-ann')!
    const raw = await readMailboxMessage(dataDir, 'default', ann.id)
    const mail = await simpleParser(raw!)
    expect(mail.subject).toBe('Welcome')
    expect(mail.to && 'value' in mail.to ? mail.to.value : []).toEqual([
      { name: 'Ann Martin', address: 'ann@example.com' },
    ])
    expect(rawHeader(mail, 'list-unsubscribe-post')).toBe('List-Unsubscribe=One-Click')
    expect(mail.messageId).toBe(messageIdFor('run-42:step-welcome', 'photoclub.example'))
    expect(await readMailboxMessage(dataDir, 'default', '../../etc/passwd')).toBeUndefined()
    expect(await listMailbox(dataDir, 'default', { profileId: 'p-bob' })).toHaveLength(1)
  })

  it('makes its folder again when it was removed while running', async () => {
    const channel = open({})
    expect(await channel.send(message())).toMatchObject({ ok: true })
    await rm(join(dataDir, 'mailbox'), { recursive: true, force: true })
    expect(await channel.send(message())).toMatchObject({ ok: true })
    expect(await listMailbox(dataDir, 'default')).toHaveLength(1)
  })
})
