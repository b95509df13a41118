// The example templates go out through a real SMTP server end to end: rendered for a
// profile, signed links and tracking applied, sent, and read back with a mail parser.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { emailChannel } from '../../src/channels/email.ts'
import { prepareMessage } from '../../src/channels/prepare.ts'
import type { ChannelSender } from '../../src/channels/types.ts'
import { FakeClock } from '../../src/domain/clock.ts'
import { verifyLink } from '../../src/domain/links.ts'
import { compileTemplate } from '../../src/domain/templates/render.ts'
import { loadTemplateFolder } from '../../src/store/template-files.ts'
import { type SmtpPeer, startSmtp } from './peers.ts'

const clock = new FakeClock('2026-03-05T09:15:00Z')
const SECRET = 'ws-link-secret'
let smtp: SmtpPeer
let channel: ChannelSender

beforeAll(async () => {
  smtp = await startSmtp()
  const v = emailChannel.validateConfig({ url: smtp.url, from: 'Photo Club <hello@photoclub.example>' })
  if (!v.ok) throw new Error('config')
  channel = emailChannel.open(v.config, { clock, dataDir: '' })
})
afterAll(async () => {
  await channel.close()
  await smtp.close()
})

async function send(name: string, properties: Record<string, unknown> = {}) {
  const folder = await loadTemplateFolder(new URL('../../examples/templates/', import.meta.url).pathname)
  const compiled = compileTemplate(folder.templates.get(name)!)
  if (!compiled.ok) throw new Error(compiled.error.message)
  const prepared = prepareMessage({
    template: compiled.template,
    context: {
      profile: { id: 'p-ann', email: 'ann@example.com', traits: { first_name: 'Ann' } },
      event: { name: 'Signed Up', properties },
    },
    messageId: `msg-${name}`,
    idempotencyKey: `run-1:${name}`,
    to: { profileId: 'p-ann', email: 'ann@example.com', name: 'Ann' },
    meta: { workspaceId: 'default', profileId: 'p-ann', journeyId: 'welcome-series' },
    links: {
      baseUrl: 'https://nudge.example',
      secret: SECRET,
      unsubscribeMailbox: 'unsubscribe@nudge.example',
    },
    now: clock.now(),
    replyTo: 'reply+msg@in.nudge.example',
  })
  if (!prepared.ok) throw new Error(prepared.error.message)
  const before = smtp.received.length
  const result = await channel.send(prepared.message)
  expect(result.ok).toBe(true)
  return smtp.received[before]!
}

const header = (raw: string, name: string) =>
  new RegExp(`^${name}:(.*(?:\\r?\\n[ \\t].*)*)`, 'mi')
    .exec(raw)?.[1]
    ?.replace(/\r?\n[ \t]+/g, ' ')
    .trim()

describe('example templates through SMTP', () => {
  it('welcome: personalised, one-click unsubscribe for this profile and topic, tracked links', async () => {
    const got = await send('welcome')
    expect(got.parsed.subject).toBe('Welcome to Photo Club, Ann')
    const listUnsub = header(got.raw, 'List-Unsubscribe')!
    const [https, mailto] = [...listUnsub.matchAll(/<([^>]+)>/g)].map((m) => m[1]!)
    expect(mailto).toMatch(/^mailto:unsubscribe@nudge\.example\?subject=unsubscribe%20/)
    const token = https!.slice('https://nudge.example/u/'.length)
    expect(verifyLink(token, SECRET, clock.now(), 'unsubscribe')).toEqual({
      ok: true,
      claims: {
        kind: 'unsubscribe',
        workspaceId: 'default',
        profileId: 'p-ann',
        topic: 'newcomers',
        // The message it came in, so the unsubscribe is credited to its journey and step.
        messageId: 'msg-welcome',
      },
    })
    expect(header(got.raw, 'List-Unsubscribe-Post')).toBe('List-Unsubscribe=One-Click')

    const html = String(got.parsed.html)
    const clicks = [...html.matchAll(/href="https:\/\/nudge\.example\/c\/([^"]+)"/g)].map((m) =>
      verifyLink(m[1]!, SECRET, clock.now(), 'click'),
    )
    expect(clicks.map((c) => (c.ok && c.claims.kind === 'click' ? c.claims.url : c))).toEqual([
      'https://photoclub.example/forum/introductions',
      'https://photoclub.example/forum/photo-beginners',
      'https://photoclub.example/charter',
    ])
    // Own links stay direct; the pixel is there; the text part has the real URLs.
    expect(html).toContain(`href="${https}"`)
    expect(html).toMatch(/<img src="https:\/\/nudge\.example\/o\/[^"]+\.gif"/)
    expect(got.parsed.text).toContain('Say hello [https://photoclub.example/forum/introductions]')
    expect(got.parsed.replyTo?.value[0]?.address).toBe('reply+msg@in.nudge.example')
  })

  it('feedback ask: plain text from Claire, replies to Claire', async () => {
    const got = await send('feedback-ask')
    expect(got.parsed.from?.value).toEqual([{ name: 'Claire Dubois', address: 'claire@photoclub.example' }])
    expect(got.parsed.replyTo?.value[0]?.address).toBe('claire@photoclub.example')
    expect(got.parsed.html).toBe(false)
    expect(got.parsed.text).toMatch(/^Hi Ann,\n\nI run Photo Club/)
  })

  it('rules reminder: transactional, so no unsubscribe headers', async () => {
    const got = await send('charter-reminder', { post_url: 'https://photoclub.example/p/9' })
    expect(got.parsed.subject).toBe('A reminder of the Photo Club charter')
    expect(header(got.raw, 'List-Unsubscribe')).toBeUndefined()
    expect(got.parsed.text).toContain('Critique photos, never people.')
  })
})
