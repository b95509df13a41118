// An app on a real test database with keys, and rows written with plain SQL the way
// the processor writes them (profiles, identities, counters, groups).
import { randomUUID } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import type { NewEvent } from '../../src/domain/events/types.ts'
import { buildApp } from '../../src/http/app.ts'
import { silentLogger } from '../../src/log.ts'
import type { Queryable } from '../../src/store/db.ts'
import { insertEvents } from '../../src/store/events.ts'
import { createKey, ensureDefaultWorkspace } from '../../src/store/workspaces.ts'
import { type Driver, openTestDb, type TestDb } from '../helpers/db.ts'

export interface AdminFixture {
  readonly db: TestDb
  readonly app: FastifyInstance
  readonly adminKey: string
  readonly writeKey: string
  /** Headers for an admin request. */
  readonly auth: { authorization: string }
  close(): Promise<void>
}

export async function adminFixture(driver: Driver): Promise<AdminFixture> {
  const db = await openTestDb(driver)
  const adminKey = 'nak_test_admin_key'
  const writeKey = 'nwk_test_write_key'
  await ensureDefaultWorkspace(db, { adminKey, writeKey })
  const app = await buildApp({ db, log: silentLogger })
  return {
    db,
    app,
    adminKey,
    writeKey,
    auth: { authorization: `Bearer ${adminKey}` },
    async close() {
      await app.close()
      await db.close()
    },
  }
}

/** A second workspace with its own admin key, to prove nothing crosses workspaces. */
export async function otherWorkspace(db: Queryable, id = 'other'): Promise<string> {
  await db.query(`INSERT INTO workspaces (id, name) VALUES ($1, $1)`, [id])
  return (await createKey(db, id, 'admin')).secret
}

export interface ProfileSeed {
  readonly workspaceId?: string
  readonly id?: string
  readonly userId?: string | null
  readonly anonymousIds?: readonly string[]
  readonly traits?: Record<string, unknown>
  readonly timezone?: string
  readonly createdAt?: string
  readonly mergedInto?: string
  readonly counters?: Record<string, number>
  readonly groups?: Record<string, Record<string, unknown>>
}

export async function seedProfile(db: Queryable, s: ProfileSeed): Promise<string> {
  const ws = s.workspaceId ?? 'default'
  const id = s.id ?? randomUUID()
  const at = s.createdAt ?? '2026-01-01T00:00:00Z'
  await db.query(
    `INSERT INTO profiles (workspace_id, profile_id, user_id, traits, timezone, first_seen_at, last_seen_at, created_at, merged_into)
     VALUES ($1, $2, $3, $4, $5, $6, $6, $6, $7)`,
    [ws, id, s.userId ?? null, JSON.stringify(s.traits ?? {}), s.timezone ?? null, at, s.mergedInto ?? null],
  )
  const ids: [string, string][] = [
    ...(s.userId ? [['user_id', s.userId] as [string, string]] : []),
    ...(s.anonymousIds ?? []).map((a) => ['anonymous_id', a] as [string, string]),
  ]
  for (const [kind, value] of ids)
    await db.query(
      'INSERT INTO profile_identities (workspace_id, kind, value, profile_id, first_seen_at) VALUES ($1, $2, $3, $4, $5)',
      [ws, kind, value, id, at],
    )
  for (const [event, count] of Object.entries(s.counters ?? {}))
    await db.query(
      `INSERT INTO profile_event_counters (workspace_id, profile_id, event, count, first_at, last_at)
       VALUES ($1, $2, $3, $4, $5, $5)`,
      [ws, id, event, count, at],
    )
  for (const [groupId, traits] of Object.entries(s.groups ?? {})) {
    await db.query(
      `INSERT INTO groups (workspace_id, group_id, traits) VALUES ($1, $2, $3)
       ON CONFLICT (workspace_id, group_id) DO UPDATE SET traits = EXCLUDED.traits`,
      [ws, groupId, JSON.stringify(traits)],
    )
    await db.query(
      'INSERT INTO profile_groups (workspace_id, profile_id, group_id, joined_at) VALUES ($1, $2, $3, $4)',
      [ws, id, groupId, at],
    )
  }
  return id
}

export interface EventSeed {
  readonly messageId: string
  readonly name?: string
  readonly type?: NewEvent['type']
  readonly userId?: string | null
  readonly anonymousId?: string | null
  readonly at: string
  /** Set as the processor would once it applied the event. */
  readonly profileId?: string
  readonly workspaceId?: string
}

export async function seedEvents(db: Queryable, events: readonly EventSeed[]): Promise<void> {
  await insertEvents(
    db,
    events.map((e) => ({
      workspaceId: e.workspaceId ?? 'default',
      messageId: e.messageId,
      type: e.type ?? 'track',
      name: e.name ?? 'Post Created',
      userId: e.userId ?? null,
      anonymousId: e.anonymousId ?? null,
      timestamp: new Date(e.at),
      receivedAt: new Date(e.at),
      partition: 0,
      payload: { event: e.name ?? 'Post Created', properties: { n: e.messageId } },
    })),
  )
  for (const e of events)
    if (e.profileId)
      await db.query(
        'UPDATE events SET profile_id = $3, processed_at = now() WHERE workspace_id = $1 AND message_id = $2',
        [e.workspaceId ?? 'default', e.messageId, e.profileId],
      )
}
