// A Nudge app over a fresh test database, with a write key and an admin key.
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify'
import { FakeClock } from '../../src/domain/clock.ts'
import { buildApp } from '../../src/http/app.ts'
import { silentLogger } from '../../src/log.ts'
import { ensureDefaultWorkspace } from '../../src/store/workspaces.ts'
import { type Driver, openTestDb, type TestDb } from '../helpers/db.ts'

export const WRITE_KEY = 'nwk_test_write'
export const ADMIN_KEY = 'nak_test_admin'

const START = '2026-03-01T12:00:00.000Z'

export const basic = (user: string, password = ''): string =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`

export interface IngestApp {
  readonly db: TestDb
  readonly app: FastifyInstance
  readonly clock: FakeClock
  post(url: string, body: unknown, headers?: Record<string, string>): Promise<LightMyRequestResponse>
  rows(): Promise<EventRow[]>
  /** Empties the events log and resets the clock (between tests sharing one app). */
  reset(): Promise<void>
  close(): Promise<void>
}

export interface EventRow {
  message_id: string
  type: string
  name: string | null
  user_id: string | null
  anonymous_id: string | null
  partition: number
  timestamp: Date
  received_at: Date
  payload: Record<string, unknown>
}

export async function openIngestApp(driver: Driver): Promise<IngestApp> {
  const db = await openTestDb(driver)
  await ensureDefaultWorkspace(db, { writeKey: WRITE_KEY, adminKey: ADMIN_KEY })
  const clock = new FakeClock(START)
  const app = await buildApp({ db, log: silentLogger, clock })
  return {
    db,
    app,
    clock,
    post(url, body, headers = { authorization: basic(WRITE_KEY) }) {
      const opts: InjectOptions = { method: 'POST', url, headers }
      if (body !== undefined) opts.payload = body as NonNullable<InjectOptions['payload']>
      return app.inject(opts)
    },
    rows: () =>
      db.query<EventRow & Record<string, unknown>>(
        'SELECT message_id, type, name, user_id, anonymous_id, partition, timestamp, received_at, payload FROM events ORDER BY seq',
      ),
    async reset() {
      await db.exec('TRUNCATE events')
      clock.set(START)
    },
    async close() {
      await app.close()
      await db.close()
    },
  }
}
