// Template previews and test sends through the admin API and the CLI: rendered for a real
// profile and a sample event as the dispatcher would, problems listed rather than thrown,
// test mail received by a real SMTP server and by the local mailbox, logged as `test` and
// never counted by the guards.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { FakeClock } from '../../src/domain/clock.ts'
import { buildApp } from '../../src/http/app.ts'
import { silentLogger } from '../../src/log.ts'
import { channelDefaults } from '../../src/runtime/dispatch/channel-pool.ts'
import { loadGuardState } from '../../src/store/guard-state.ts'
import { ensureDefaultWorkspace } from '../../src/store/workspaces.ts'
import { type SmtpPeer, startSmtp } from '../channels/peers.ts'
import { describeEachDriver, openTestDb, type TestDb } from '../helpers/db.ts'
import { runCli } from './cli-server.ts'
import { seedProfile } from './helpers.ts'

const WELCOME = {
  channel: 'email',
  category: 'marketing',
  subject: 'Welcome, {{ profile.traits.first_name }}',
  html:
    '<p>Hi {{ profile.traits.first_name }}, you joined the {{ event.properties.plan | default: "free" }} plan.</p>' +
    '<p><a href="https://photoclub.example/rules">Read the rules</a></p>',
}
const CITY = {
  channel: 'email',
  category: 'transactional',
  subject: 'Meet-ups near you',
  text: 'Hello {{ profile.traits.first_name }}, meet-ups in {{ profile.traits.city }} this week.',
  html: '<p>Meet-ups in {{ profile.traits.city }}</p>',
}

describeEachDriver('admin API: template preview and test sends', (driver) => {
  let db: TestDb
  let app: FastifyInstance
  let dataDir: string
  let smtp: SmtpPeer
  let annId: string
  const adminKey = 'nak_template_tests'
  const clock = new FakeClock('2026-03-02T10:00:00Z')

  beforeAll(async () => {
    db = await openTestDb(driver)
    await ensureDefaultWorkspace(db, { adminKey, writeKey: 'nwk_template_tests' })
    dataDir = mkdtempSync(join(tmpdir(), 'nudge-send-test-'))
    app = await buildApp({
      db,
      log: silentLogger,
      clock,
      dataDir,
      channelDefaults: channelDefaults({}),
      publicUrl: 'https://nudge.photoclub.example',
    })
    smtp = await startSmtp()
    annId = await seedProfile(db, {
      userId: 'ann',
      traits: { first_name: 'Ann', email: 'ann@example.org' },
    })
    expect((await call('PUT', '/api/v1/templates/welcome', WELCOME)).status).toBe(200)
    expect((await call('PUT', '/api/v1/templates/meetups', CITY)).status).toBe(200)
  })
  afterAll(async () => {
    await app.close()
    await smtp.close()
    await db.close()
    rmSync(dataDir, { recursive: true, force: true })
  })

  async function call(method: 'GET' | 'PUT' | 'POST', url: string, payload?: object) {
    const res = await app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${adminKey}` },
      ...(payload ? { payload } : {}),
    })
    return { status: res.statusCode, body: res.json() }
  }
  const testLog = () =>
    db.query<{
      profile_id: string
      template: string
      status: string
      category: string
      journey_id: string | null
      decided_at: Date | null
    }>(
      `SELECT profile_id, template, status, category, journey_id, decided_at FROM messages
       WHERE workspace_id = 'default' ORDER BY created_at, message_id`,
    )

  it('previews a template for a real profile and a sample event, as the dispatcher renders it', async () => {
    const res = await call('POST', '/api/v1/templates/welcome/preview', {
      profile: 'ann',
      event: { name: 'Signed Up', properties: { plan: 'pro' } },
    })
    expect(res.status).toBe(200)
    expect(res.body.problems).toEqual([])
    expect(res.body.profile).toEqual({ id: annId, userId: 'ann' })
    expect(res.body.parts.subject).toBe('Welcome, Ann')
    expect(res.body.parts.text).toContain('Hi Ann, you joined the pro plan.')
    // The link is tracked and the pixel is in, exactly as a journey's send would have them.
    expect(res.body.parts.html).toContain('href="https://nudge.photoclub.example/c/')
    expect(res.body.parts.html).toContain('src="https://nudge.photoclub.example/o/')
    const noEvent = await call('POST', '/api/v1/templates/welcome/preview', { profile: 'ann' })
    expect(noEvent.body.parts.text).toContain('you joined the free plan.')
  })

  it('lists a missing variable with its part instead of failing, and renders the rest', async () => {
    const res = await call('POST', '/api/v1/templates/meetups/preview', { profile: 'ann' })
    expect(res.status).toBe(200)
    expect(res.body.parts).toEqual({ subject: 'Meet-ups near you' })
    expect(res.body.problems.map((p: { part: string; variable: string }) => [p.part, p.variable])).toEqual([
      ['text', 'profile.traits.city'],
      ['html', 'profile.traits.city'],
    ])
    expect(res.body.problems[0].message).toContain('add | default')
    const anonymous = await call('POST', '/api/v1/templates/welcome/preview', {})
    expect(anonymous.body.profile).toBeNull()
    expect(anonymous.body.problems[0].variable).toBe('profile.traits.first_name')
  })

  it('previews a template document not stored yet: an unknown filter is a problem of its part', async () => {
    const res = await call('POST', '/api/v1/templates/preview', {
      profile: 'ann',
      template: {
        channel: 'email',
        subject: 'Hi {{ profile.traits.first_name | shout }}',
        text: 'Hello {{ profile.traits.first_name }}',
      },
    })
    expect(res.status).toBe(200)
    expect(res.body.parts).toEqual({ text: 'Hello Ann' })
    expect(res.body.problems).toHaveLength(1)
    expect(res.body.problems[0]).toMatchObject({ part: 'subject', message: expect.stringContaining('shout') })
    const incomplete = await call('POST', '/api/v1/templates/preview', {
      template: { channel: 'email', text: 'x' },
    })
    expect(incomplete.status).toBe(400)
    expect(incomplete.body.error.issues[0]).toMatchObject({ path: 'body.template.subject' })
  })

  it('answers 404 with what to do for an unknown template, profile or journey', async () => {
    const template = await call('POST', '/api/v1/templates/nope/preview', {})
    expect(template.status).toBe(404)
    expect(template.body.error.message).toContain('PUT /api/v1/templates/nope')
    const profile = await call('POST', '/api/v1/templates/welcome/preview', { profile: 'zed' })
    expect(profile.status).toBe(404)
    expect(profile.body.error.issues[0]).toMatchObject({
      path: 'body.profile',
      hint: 'GET /api/v1/profiles lists them',
    })
    const journey = await call('POST', '/api/v1/templates/welcome/preview', { journey: 'gone' })
    expect(journey.status).toBe(404)
    const to = await call('POST', '/api/v1/templates/welcome/send-test', { to: 'zed' })
    expect(to.body.error.issues[0].path).toBe('body.to')
  })

  it('sends a test to the local mailbox when no SMTP server is configured', async () => {
    const res = await call('POST', '/api/v1/templates/welcome/send-test', {
      to: 'bob@example.org',
      profile: 'ann',
    })
    expect(res.status).toBe(200)
    expect(res.body.result.ok).toBe(true)
    const box = await call('GET', '/api/v1/mailbox')
    expect(box.body.items.map((m: { to: string; subject: string }) => [m.to, m.subject])).toEqual([
      ['bob@example.org', '[Test] Welcome, Ann'],
    ])
  })

  it('hands a test to the SMTP server at once: "[Test] ", untracked, logged as test, never capped', async () => {
    const put = await call('PUT', '/api/v1/channels/email', {
      url: smtp.url,
      from: 'Photo Club <hi@photoclub.example>',
    })
    expect(put.status).toBe(200)
    const res = await call('POST', '/api/v1/templates/welcome/send-test', {
      to: 'ann',
      channel: 'email',
      event: { name: 'Signed Up', properties: { plan: 'pro' } },
    })
    expect(res.status).toBe(200)
    expect(res.body.result).toMatchObject({ ok: true })
    expect(res.body.messageId).toMatch(/^test:/)
    const mail = smtp.received.at(-1)
    expect(mail?.to).toEqual(['ann@example.org'])
    expect(mail?.parsed.subject).toBe('[Test] Welcome, Ann')
    expect(mail?.parsed.text).toContain('Hi Ann, you joined the pro plan.')
    expect(mail?.parsed.html).toContain('href="https://photoclub.example/rules"')
    expect(mail?.parsed.html).not.toContain('/o/')
    // Its one-click unsubscribe is inert: a tester's click changes nothing for Ann.
    const unsubscribe = /^List-Unsubscribe:\s*<([^>]+)>/im.exec(mail?.raw ?? '')?.[1]
    expect(unsubscribe).toMatch(/\/u\//)
    const oneClick = await app.inject({
      method: 'POST',
      url: new URL(unsubscribe!).pathname,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'List-Unsubscribe=One-Click',
    })
    expect(oneClick.statusCode).toBe(200)
    expect(oneClick.body).toContain('nothing was changed')
    expect(await db.query('SELECT topic FROM subscription_preferences')).toEqual([])

    expect(
      (await testLog()).map((m) => [m.template, m.status, m.category, m.journey_id, m.decided_at]),
    ).toEqual([
      ['welcome', 'sent', 'test', null, null],
      ['welcome', 'sent', 'test', null, null],
    ])
    const guards = await loadGuardState(db, 'default', annId, [], new Date('2026-01-01T00:00:00Z'))
    expect(guards.history).toEqual([])
  })

  it('sends nothing when the template does not render, and refuses another channel', async () => {
    const before = smtp.received.length
    const res = await call('POST', '/api/v1/templates/meetups/send-test', {
      to: 'ann@example.org',
      profile: 'ann',
    })
    expect(res.status).toBe(200)
    expect(res.body.result).toEqual({
      ok: false,
      kind: 'rejected',
      reason: 'not sent: the template does not render',
    })
    expect(res.body.problems.map((p: { variable: string }) => p.variable)).toEqual([
      'profile.traits.city',
      'profile.traits.city',
    ])
    expect(smtp.received.length).toBe(before)
    const sms = await call('POST', '/api/v1/templates/welcome/send-test', {
      to: '+33612345678',
      channel: 'sms',
    })
    expect(sms.status).toBe(400)
    expect(
      (
        await call('PUT', '/api/v1/templates/code', {
          channel: 'sms',
          category: 'transactional',
          text: 'Code 1234',
        })
      ).status,
    ).toBe(200)
    const unconfigured = await call('POST', '/api/v1/templates/code/send-test', { to: '+33612345678' })
    expect(unconfigured.body.result).toEqual({
      ok: false,
      kind: 'misconfigured',
      reason: 'the sms channel is not configured for this workspace (PUT /api/v1/channels/sms)',
    })
    expect((await testLog()).filter((m) => m.template === 'code')).toMatchObject([
      { status: 'failed', category: 'test' },
    ])
    expect(sms.body.error.issues[0]).toMatchObject({
      path: 'body.channel',
      message: expect.stringContaining('email'),
    })
  })

  it('nudge preview and nudge send-test go through the running server', async () => {
    const address = await app.listen({ port: 0, host: '127.0.0.1' })
    const env = { NUDGE_URL: address, NUDGE_ADMIN_KEY: adminKey }
    const preview = await runCli(['preview', 'welcome', '--profile', 'ann'], env)
    expect(preview.code).toBe(0)
    expect(preview.stdout).toContain('Subject: Welcome, Ann')
    expect(preview.stdout).toContain('Hi Ann, you joined the free plan.')
    const broken = await runCli(['preview', 'meetups', '--profile', 'ann'], env)
    expect(broken.code).toBe(1)
    expect(broken.stderr).toContain('text: the variable "profile.traits.city" is missing')

    const sent = await runCli(
      [
        'send-test',
        'welcome',
        '--to',
        'carol@example.org',
        '--profile',
        'ann',
        '--event',
        '{"name":"Signed Up","properties":{"plan":"team"}}',
      ],
      env,
    )
    expect(sent.stderr).toBe('')
    expect(sent.code).toBe(0)
    expect(sent.stdout).toContain('Sent a test of "welcome" to carol@example.org by email')
    const mail = smtp.received.at(-1)
    expect(mail?.to).toEqual(['carol@example.org'])
    expect(mail?.parsed.text).toContain('you joined the team plan.')
    const badEvent = await runCli(
      ['send-test', 'welcome', '--to', 'carol@example.org', '--event', '{"name"'],
      env,
    )
    expect(badEvent.code).toBe(2)
    expect(badEvent.stderr).toContain('--event must be JSON')
  })
})
