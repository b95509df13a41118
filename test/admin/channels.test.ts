// Channel settings through the admin API: checked by the channel's schema (400 with the
// field paths), stored per workspace, never echoed with their secrets; and the local
// mailbox listing, over mail the email channel really wrote.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { emailChannel } from '../../src/channels/email.ts'
import { FakeClock } from '../../src/domain/clock.ts'
import { buildApp } from '../../src/http/app.ts'
import { silentLogger } from '../../src/log.ts'
import { channelDefaults } from '../../src/runtime/dispatch/channel-pool.ts'
import { ensureDefaultWorkspace } from '../../src/store/workspaces.ts'
import { describeEachDriver, openTestDb, type TestDb } from '../helpers/db.ts'
import { otherWorkspace } from './helpers.ts'

describeEachDriver('admin API: channels and mailbox', (driver) => {
  let db: TestDb
  let app: FastifyInstance
  let dataDir: string
  const adminKey = 'nak_channels_admin'
  beforeAll(async () => {
    db = await openTestDb(driver)
    await ensureDefaultWorkspace(db, { adminKey, writeKey: 'nwk_channels_write' })
    dataDir = mkdtempSync(join(tmpdir(), 'nudge-admin-mailbox-'))
    app = await buildApp({ db, log: silentLogger, dataDir, channelDefaults: channelDefaults({}) })
  })
  afterAll(async () => {
    await app.close()
    await db.close()
    rmSync(dataDir, { recursive: true, force: true })
  })

  const call = async (method: 'GET' | 'PUT', url: string, payload?: object, key = adminKey) => {
    const res = await app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${key}` },
      ...(payload ? { payload } : {}),
    })
    return { status: res.statusCode, body: res.json(), text: res.body }
  }
  const storedConfig = async (channel: string) =>
    (
      await db.query<{ config: Record<string, unknown> }>(
        `SELECT config FROM channel_configs WHERE workspace_id = 'default' AND channel = $1`,
        [channel],
      )
    )[0]?.config

  it('a channel nobody configured says so; email falls back to the local mailbox', async () => {
    expect((await call('GET', '/api/v1/channels/webhook')).body).toEqual({
      name: 'webhook',
      source: 'none',
      config: null,
      updatedAt: null,
    })
    expect((await call('GET', '/api/v1/channels/email')).body).toMatchObject({
      source: 'default',
      config: {},
    })
  })

  it('a wrong config is a 400 naming every field, and nothing is saved', async () => {
    const res = await call('PUT', '/api/v1/channels/webhook', { url: 'ftp://hooks.example' })
    expect(res.status).toBe(400)
    expect(res.body.error.code).toBe('NUDGE_ERR_VALIDATION')
    expect(res.body.error.issues.map((i: { path: string }) => i.path).sort()).toEqual([
      'body.secret',
      'body.url',
    ])
    expect(await storedConfig('webhook')).toBeUndefined()
    expect((await call('PUT', '/api/v1/channels/fax', {})).status).toBe(400)
  })

  it('saves a config and never shows its secrets; the mask sent back keeps them', async () => {
    const secret = 'whsec_0123456789abcdef'
    const saved = await call('PUT', '/api/v1/channels/webhook', {
      url: 'https://hooks.example/nudge',
      secret,
    })
    expect(saved.status).toBe(200)
    expect(saved.body).toMatchObject({
      source: 'workspace',
      config: { url: 'https://hooks.example/nudge', secret: '********', preset: 'generic' },
    })
    expect(saved.text).not.toContain(secret)
    const edited = await call('PUT', '/api/v1/channels/webhook', { ...saved.body.config, timeoutMs: 5000 })
    expect(edited.body.config.timeoutMs).toBe(5000)
    expect(await storedConfig('webhook')).toMatchObject({ secret, timeoutMs: 5000 })

    const smtp = await call('PUT', '/api/v1/channels/email', {
      url: 'smtp://mailer:hunter2@smtp.example:587',
      mailgun: { webhookSigningKey: 'key-mailgun-signing-0123456789' },
    })
    expect(smtp.body.config.url).toBe('smtp://mailer:********@smtp.example:587')
    expect(smtp.body.config.mailgun).toEqual({ webhookSigningKey: '********' })
    expect(smtp.text).not.toContain('hunter2')
    expect(smtp.text).not.toContain('key-mailgun-signing')
  })

  it('another workspace sees none of it', async () => {
    const key = await otherWorkspace(db, 'other-channels')
    expect((await call('GET', '/api/v1/channels/webhook', undefined, key)).body.source).toBe('none')
  })

  it('lists the local mailbox and hands out one mail as RFC 5322 text', async () => {
    const v = emailChannel.validateConfig({ from: 'Photo Club <hello@photoclub.example>' })
    if (!v.ok) throw new Error('config')
    const mailbox = emailChannel.open(v.config, { clock: new FakeClock('2026-03-02T10:00:00Z'), dataDir })
    const sent = await mailbox.send({
      id: 'msg-1',
      idempotencyKey: 'msg-1',
      category: 'transactional',
      to: { profileId: '00000000-0000-4000-8000-000000000001', email: 'ann@example.com' },
      content: { subject: 'Your receipt', text: 'Thanks, Ann' },
      meta: { workspaceId: 'default', profileId: '00000000-0000-4000-8000-000000000001' },
    })
    expect(sent.ok).toBe(true)
    const list = await call('GET', '/api/v1/mailbox')
    expect(list.body.items.map((m: { to: string; subject: string }) => [m.to, m.subject])).toEqual([
      ['ann@example.com', 'Your receipt'],
    ])
    const one = await call('GET', `/api/v1/mailbox/${list.body.items[0].id}`)
    expect(one.body.eml).toMatch(/^Subject: Your receipt\r?$/m)
    expect((await call('GET', '/api/v1/mailbox/0123456789abcdef0123456789abcdef')).status).toBe(404)
  })
})
