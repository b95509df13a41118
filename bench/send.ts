// Sending throughput: queued messages through the dispatcher (guards, render, channel,
// settle, Message Sent event) to a local smtp-server over a pooled connection, and to a
// local HTTP receiver as signed webhooks.
// Usage: npm run bench:send  (BENCH_DATABASE_URL, default local PostgreSQL; BENCH_MESSAGES)
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SMTPServer } from 'smtp-server'
import { systemClock } from '../src/domain/clock.ts'
import { makeLogger } from '../src/log.ts'
import { makeChannelPool } from '../src/runtime/dispatch/channel-pool.ts'
import { makeDispatcher } from '../src/runtime/dispatcher.ts'
import { putChannelConfig } from '../src/store/channel-configs.ts'
import type { Db } from '../src/store/db.ts'
import { enqueueMessages } from '../src/store/messages.ts'
import { migrate } from '../src/store/migrate.ts'
import { fromPg } from '../src/store/pg.ts'
import { saveTemplates } from '../src/store/workspace-templates.ts'
import { ensureDefaultWorkspace } from '../src/store/workspaces.ts'

const url = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const count = Number(process.env.BENCH_MESSAGES ?? 3000)
const schema = `bench_send_${Date.now()}`

let mails = 0
const smtp = new SMTPServer({
  disabledCommands: ['STARTTLS', 'AUTH'],
  authOptional: true,
  logger: false,
  onData(stream, _session, cb) {
    stream.on('data', () => {})
    stream.on('end', () => {
      mails++
      cb()
    })
  },
})
await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve))
const smtpPort = (smtp.server.address() as { port: number }).port

let hooks = 0
const http = createServer((req, res) => {
  req.on('data', () => {})
  req.on('end', () => {
    hooks++
    res.end('ok')
  })
})
await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
const httpPort = (http.address() as { port: number }).port

async function queue(db: Db, channel: string, template: string): Promise<void> {
  const now = new Date()
  const profiles = await db.query<{ profile_id: string }>(
    'SELECT profile_id FROM profiles ORDER BY profile_id LIMIT $1',
    [count],
  )
  await enqueueMessages(
    db,
    profiles.map((p) => ({
      workspaceId: 'default',
      profileId: p.profile_id,
      messageId: randomUUID(),
      journeyId: 'bench',
      runId: randomUUID(),
      stepId: channel,
      channel,
      template,
      payload: { event: { name: 'Signed Up', properties: {} } },
      notBefore: now,
      createdAt: now,
    })),
  )
}

const admin = await fromPg(url, { max: 1 })
await admin.exec(`CREATE SCHEMA ${schema}`)
const db = await fromPg(url, { schema, max: 20 })
const dataDir = mkdtempSync(join(tmpdir(), 'nudge-bench-send-'))
try {
  await migrate(db)
  await ensureDefaultWorkspace(db)
  // Guards on, but no cap, quiet hours or rate limit in the way: this measures sending.
  await db.query(`UPDATE workspaces SET settings = $1 WHERE id = 'default'`, [
    JSON.stringify({
      guards: { caps: [], quietHours: { enabled: false }, rateLimits: { email: null, webhook: null } },
    }),
  ])
  await db.query(
    `WITH p AS (
       INSERT INTO profiles (workspace_id, profile_id, user_id, traits, first_seen_at, last_seen_at)
       SELECT 'default', gen_random_uuid(), 'u' || g, jsonb_build_object('email', 'u' || g || '@example.com', 'first_name', 'Member ' || g), now(), now()
       FROM generate_series(1, $1) g RETURNING profile_id, user_id
     )
     INSERT INTO profile_identities (workspace_id, kind, value, profile_id, first_seen_at)
     SELECT 'default', 'user_id', user_id, profile_id, now() FROM p`,
    [count],
  )
  const now = new Date()
  await saveTemplates(
    db,
    'default',
    [
      {
        name: 'bench-mail',
        channel: 'email',
        category: 'marketing',
        topic: 'news',
        subject: 'Hello {{ profile.traits.first_name }}',
        html: '<p>Hi {{ profile.traits.first_name }}, <a href="https://example.org/read">read this</a>.</p>',
      },
      {
        name: 'bench-hook',
        channel: 'webhook',
        category: 'transactional',
        text: 'Hi {{ profile.traits.first_name }}',
      },
    ],
    now,
  )
  const maxConnections = 5
  await putChannelConfig(
    db,
    'default',
    'email',
    { url: `smtp://127.0.0.1:${smtpPort}`, pool: { maxConnections } },
    now,
  )
  await putChannelConfig(
    db,
    'default',
    'webhook',
    { url: `http://127.0.0.1:${httpPort}/hook`, secret: 'bench-secret-0123456789' },
    now,
  )
  const channels = makeChannelPool({ clock: systemClock, dataDir }, {})
  const dispatcher = makeDispatcher({
    db,
    clock: systemClock,
    log: makeLogger('warn'),
    workerId: randomUUID(),
    channels,
    publicUrl: 'https://nudge.example',
  })
  const concurrency = 16
  for (const [channel, template, delivered] of [
    ['email', 'bench-mail', () => mails],
    ['webhook', 'bench-hook', () => hooks],
  ] as const) {
    await queue(db, channel, template)
    const started = performance.now()
    const handled = await dispatcher.drain()
    const seconds = (performance.now() - started) / 1000
    const what =
      channel === 'email'
        ? `mails handed to a local smtp-server (pool of ${maxConnections} connections)`
        : 'signed webhooks delivered to a local HTTP server'
    console.log(
      `send: ${channel}: ${delivered()} ${what} in ${seconds.toFixed(2)} s = ${Math.round(delivered() / seconds)}/s (${handled} messages, ${concurrency} profiles at once, guards + render + settle + Message Sent event each)`,
    )
  }
  await channels.close()
} finally {
  await db.close()
  await admin.exec(`DROP SCHEMA ${schema} CASCADE`)
  await admin.close()
  smtp.close()
  http.close()
  rmSync(dataDir, { recursive: true, force: true })
}
