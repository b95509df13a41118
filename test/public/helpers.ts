// A workspace with members and sent messages in a real database, and the app over it.
import { randomUUID } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { FakeClock } from '../../src/domain/clock.ts'
import { type LinkClaims, linkUrl } from '../../src/domain/links.ts'
import { buildApp } from '../../src/http/app.ts'
import { silentLogger } from '../../src/log.ts'
import type { Queryable } from '../../src/store/db.ts'
import { claimDueMessages, enqueueMessages, settleMessage } from '../../src/store/messages.ts'
import { workspaceSecret } from '../../src/store/workspace-secrets.ts'
import { saveTemplates } from '../../src/store/workspace-templates.ts'
import { ensureDefaultWorkspace } from '../../src/store/workspaces.ts'
import { type Driver, openTestDb, type TestDb } from '../helpers/db.ts'
import { codeMessage } from '../helpers/messages.ts'

export const WS = 'default'

export interface World {
  readonly db: TestDb
  readonly clock: FakeClock
  readonly app: FastifyInstance
  close(): Promise<void>
}

export async function openWorld(driver: Driver, opts: { publicUrl?: string } = {}): Promise<World> {
  const db = await openTestDb(driver)
  await ensureDefaultWorkspace(db, { writeKey: 'nwk_test_write', adminKey: 'nak_test_admin' })
  const clock = new FakeClock('2026-03-02T10:00:00Z')
  const app = await buildApp({ db, log: silentLogger, clock, ...opts })
  await app.ready()
  return {
    db,
    clock,
    app,
    async close() {
      await app.close()
      await db.close()
    },
  }
}

/** A member as the processor would have stored them: a profile and its userId identity. */
export async function addMember(db: Queryable, userId: string, traits: Record<string, unknown> = {}) {
  const profileId = randomUUID()
  const at = '2026-03-01T09:00:00Z'
  await db.query(
    `INSERT INTO profiles (workspace_id, profile_id, user_id, traits, first_seen_at, last_seen_at)
     VALUES ($1, $2, $3, $4, $5, $5)`,
    [WS, profileId, userId, JSON.stringify(traits), at],
  )
  await db.query(
    `INSERT INTO profile_identities (workspace_id, kind, value, profile_id, first_seen_at) VALUES ($1, 'user_id', $2, $3, $4)`,
    [WS, userId, profileId, at],
  )
  return { profileId, userId }
}

/** A message queued by a journey and handed to its channel by the dispatcher at `sentAt`. */
export async function sentMessage(
  db: Queryable,
  profileId: string,
  o: { channel?: string; sentAt: Date; messageId?: string; providerId?: string },
): Promise<string> {
  const messageId = o.messageId ?? `run-${randomUUID().slice(0, 8)}:welcome:0`
  await enqueueMessages(db, [
    {
      workspaceId: WS,
      profileId,
      messageId,
      journeyId: 'onboarding',
      runId: 'run-1',
      stepId: 'welcome',
      channel: o.channel ?? 'email',
      template: 'welcome-mail',
      payload: {},
      notBefore: new Date(o.sentAt.getTime() - 1000),
      createdAt: new Date(o.sentAt.getTime() - 1000),
    },
  ])
  const [claimed] = (await claimDueMessages(db, 'test', o.sentAt, 10, 60_000)).filter(
    (m) => m.messageId === messageId,
  )
  if (!claimed) throw new Error('message not claimed')
  await settleMessage(db, claimed, {
    status: 'sent',
    at: o.sentAt,
    ...(o.providerId ? { providerId: o.providerId } : {}),
  })
  return messageId
}

/** The path of a signed link for this workspace, as a message would carry it. */
export async function linkPath(db: Queryable, claims: LinkClaims, now: Date): Promise<string> {
  const secret = await workspaceSecret(db, claims.workspaceId)
  if (!secret) throw new Error('no secret')
  return linkUrl('', claims, secret, now)
}

export interface LoggedEvent {
  name: string
  user_id: string | null
  message_id: string
  properties: Record<string, unknown>
}

export async function loggedEvents(db: Queryable, name?: string): Promise<LoggedEvent[]> {
  return db.query<LoggedEvent>(
    `SELECT name, user_id, message_id, payload -> 'properties' AS properties FROM events
     WHERE ($1::text IS NULL OR name = $1) ORDER BY seq`,
    [name ?? null],
  )
}

export async function messageRow(db: Queryable, messageId: string) {
  const rows = await db.query<{
    status: string
    reason: string | null
    opened_at: Date | null
    clicked_at: Date | null
  }>(
    'SELECT status, reason, opened_at, clicked_at FROM messages WHERE workspace_id = $1 AND message_id = $2',
    [WS, messageId],
  )
  return rows[0]
}

export const BROWSER_UA =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15'

/** Changes one character in the middle of a signature (an edge character may carry unused bits). */
export function flipMiddle(sig: string): string {
  const i = Math.floor(sig.length / 2)
  return `${sig.slice(0, i)}${sig[i] === 'A' ? 'B' : 'A'}${sig.slice(i + 1)}`
}

/**
 * For tests that send real mail through a worker world: a transactional `code` template,
 * ann with an email address, and a function queueing one `code` mail to her by message id.
 */
export async function annWithCodeMail(world: {
  db: Queryable
  clock: { now(): Date }
  identify(userId: string, traits: Record<string, unknown>): Promise<void>
}): Promise<(messageId: string) => Promise<unknown>> {
  await saveTemplates(
    world.db,
    WS,
    [{ name: 'code', channel: 'email', category: 'transactional', subject: 'Code', text: '1234' }],
    world.clock.now(),
  )
  await world.identify('ann', { email: 'ann@example.com' })
  const [ann] = await world.db.query<{ profile_id: string }>(
    `SELECT profile_id FROM profiles WHERE user_id = 'ann'`,
  )
  if (!ann) throw new Error('ann was not identified')
  return (messageId: string) =>
    enqueueMessages(world.db, [codeMessage(WS, ann.profile_id, messageId, world.clock.now())])
}
