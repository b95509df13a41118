// A whole node on a real clock: a journey's mail leaves through NUDGE_SMTP_URL moments
// after the event, woken by notifications (no test drives it), or lands in the local
// mailbox the admin API lists when no SMTP server is configured.
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, expect, it } from 'vitest'
import { type Config, loadConfig } from '../../src/config.ts'
import { formatIssue, parseJourneyDocument } from '../../src/domain/journeys/parse.ts'
import { silentLogger } from '../../src/log.ts'
import { type RunningNode, startNode } from '../../src/runtime/node.ts'
import { applyJourney } from '../../src/store/journeys.ts'
import { migrate } from '../../src/store/migrate.ts'
import { openDb } from '../../src/store/open.ts'
import { loadTemplateFolder } from '../../src/store/template-files.ts'
import { saveTemplates } from '../../src/store/workspace-templates.ts'
import { ensureDefaultWorkspace } from '../../src/store/workspaces.ts'
import { type SmtpPeer, startSmtp } from '../channels/peers.ts'
import { send } from '../processor/helpers.ts'

const ADMIN_KEY = 'nak_node_dispatch_key'
const examples = join(import.meta.dirname, '../../examples')
let node: RunningNode | undefined
let smtp: SmtpPeer | undefined
let dir: string | undefined

afterEach(async () => {
  await node?.stop()
  await smtp?.close()
  if (dir) await rm(dir, { recursive: true, force: true })
  node = smtp = dir = undefined
})

/** The rules reminder (transactional: no quiet hours on a real clock) and its templates, published. */
async function prepare(config: Config): Promise<void> {
  const db = await openDb(config)
  await migrate(db)
  await ensureDefaultWorkspace(db, { adminKey: ADMIN_KEY })
  const parsed = parseJourneyDocument(
    await readFile(join(examples, 'journeys/rules-reminder.yaml'), 'utf8'),
    'rules-reminder.yaml',
  )
  if (!parsed.ok) throw new Error(parsed.errors.map(formatIssue).join('\n'))
  const definition = JSON.parse(JSON.stringify(parsed.journey))
  await db.transaction((tx) => applyJourney(tx, 'default', definition, { publish: true }))
  const templates = await loadTemplateFolder(join(examples, 'templates'))
  await saveTemplates(db, 'default', [...templates.templates.values()], new Date())
  await db.close()
}

async function flag(n: RunningNode): Promise<void> {
  await send(
    n.db,
    { type: 'identify', userId: 'ann', traits: { email: 'ann@example.com', first_name: 'Ann' } },
    {
      type: 'track',
      userId: 'ann',
      event: 'Moderation Comment Received',
      properties: { comment: 'read-the-rules', comment_id: 'c-1' },
    },
  )
}

async function until(check: () => Promise<boolean> | boolean): Promise<void> {
  for (let i = 0; i < 1000 && !(await check()); i++) await new Promise((r) => setTimeout(r, 10))
}

it('mail leaves through NUDGE_SMTP_URL as soon as the journey queues it', async () => {
  smtp = await startSmtp()
  dir = await mkdtemp(join(tmpdir(), 'nudge-dispatch-node-'))
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', NUDGE_DATA_DIR: dir, NUDGE_SMTP_URL: smtp.url })
  await prepare(config)
  node = await startNode(config, silentLogger)
  await flag(node)
  const peer = smtp
  await until(() => peer.received.length > 0)
  expect(peer.received.map((r) => [r.to.join(','), r.parsed.subject])).toEqual([
    ['ann@example.com', 'A reminder of the Photo Club charter'],
  ])
  const channel = await node.app?.inject({
    method: 'GET',
    url: '/api/v1/channels/email',
    headers: { authorization: `Bearer ${ADMIN_KEY}` },
  })
  expect(channel?.json()).toMatchObject({ source: 'default', config: { url: smtp.url } })
})

it('without SMTP the mail lands in the local mailbox, listed by the admin API', async () => {
  dir = await mkdtemp(join(tmpdir(), 'nudge-dispatch-node-'))
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', NUDGE_DATA_DIR: dir })
  await prepare(config)
  node = await startNode(config, silentLogger)
  await flag(node)
  const running = node
  const list = async () =>
    (
      await running.app?.inject({
        method: 'GET',
        url: '/api/v1/mailbox',
        headers: { authorization: `Bearer ${ADMIN_KEY}` },
      })
    )?.json() as { items: { to: string; subject: string }[] }
  await until(async () => (await list()).items.length > 0)
  expect((await list()).items.map((m) => [m.to, m.subject])).toEqual([
    ['ann@example.com', 'A reminder of the Photo Club charter'],
  ])
})
