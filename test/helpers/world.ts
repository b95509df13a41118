// A whole Nudge on a fake clock, for scenario tests on a real database: events go into
// the log, the real processor, journeys and scheduler run, and the test reads what was
// queued. Time moves only when the scenario says so, timer by timer.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { FakeClock } from '../../src/domain/clock.ts'
import { partitionOf } from '../../src/domain/events/partition.ts'
import { formatIssue, parseJourneyDocument } from '../../src/domain/journeys/parse.ts'
import { silentLogger } from '../../src/log.ts'
import { makeWorkers, type SendingOptions, type Workers } from '../../src/runtime/workers.ts'
import { insertEvents } from '../../src/store/events.ts'
import { applyJourney } from '../../src/store/journeys.ts'
import { loadTemplateFolder } from '../../src/store/template-files.ts'
import { nextTimerAt } from '../../src/store/timers.ts'
import { saveTemplates } from '../../src/store/workspace-templates.ts'
import { ensureDefaultWorkspace } from '../../src/store/workspaces.ts'
import { type Driver, openTestDb, type TestDb } from './db.ts'

export interface World {
  readonly db: TestDb
  readonly clock: FakeClock
  readonly workers: Workers
  publish(...examples: string[]): Promise<void>
  track(userId: string, event: string, properties?: Record<string, unknown>): Promise<void>
  identify(userId: string, traits: Record<string, unknown>): Promise<void>
  /** A track or identify with an anonymousId (and a userId: links the two, merging profiles). */
  send(
    type: 'track' | 'identify',
    ids: { readonly userId?: string; readonly anonymousId: string },
    body: Record<string, unknown>,
  ): Promise<void>
  /** Moves the clock to `at`, firing every timer due on the way, in time order. */
  runUntil(at: string | Date): Promise<void>
  /** Queued messages as "user channel:template ISO-time", in order. */
  sends(): Promise<string[]>
  close(): Promise<void>
}

let seq = 0

export interface WorldOptions {
  /** How the dispatcher sends; by default email goes to a throw-away local mailbox. */
  readonly sending?: Partial<SendingOptions>
}

export async function makeWorld(driver: Driver, start: string, options: WorldOptions = {}): Promise<World> {
  const db = await openTestDb(driver)
  await ensureDefaultWorkspace(db)
  const clock = new FakeClock(start)
  const dataDir = mkdtempSync(join(tmpdir(), 'nudge-world-'))
  const workers = await makeWorkers({
    db,
    clock,
    log: silentLogger,
    workerId: 'world',
    sending: { dataDir, dispatcher: { random: () => 0.5 }, ...options.sending },
  })

  async function write(
    type: 'track' | 'identify',
    userId: string | null,
    body: Record<string, unknown>,
    anonymousId: string | null = null,
  ) {
    const now = clock.now()
    await insertEvents(db, [
      {
        workspaceId: 'default',
        messageId: `w-${process.pid}-${++seq}`,
        type,
        name: type === 'track' ? (body['event'] as string) : null,
        userId,
        anonymousId,
        timestamp: now,
        receivedAt: now,
        partition: partitionOf('default', userId, anonymousId),
        payload: { type, ...(userId ? { userId } : {}), ...(anonymousId ? { anonymousId } : {}), ...body },
      },
    ])
    await workers.drain()
  }

  return {
    db,
    clock,
    workers,
    async publish(...examples) {
      const templates = await loadTemplateFolder(join(import.meta.dirname, '../../examples/templates'))
      await saveTemplates(db, 'default', [...templates.templates.values()], clock.now())
      for (const name of examples) {
        const file = join(import.meta.dirname, '../../examples/journeys', `${name}.yaml`)
        const parsed = parseJourneyDocument(readFileSync(file, 'utf8'), `${name}.yaml`)
        if (!parsed.ok) throw new Error(parsed.errors.map(formatIssue).join('\n'))
        const definition = JSON.parse(JSON.stringify(parsed.journey))
        await db.transaction((tx) => applyJourney(tx, 'default', definition, { publish: true }))
      }
      workers.catalog.invalidate()
    },
    track: (userId, event, properties = {}) => write('track', userId, { event, properties }),
    identify: (userId, traits) => write('identify', userId, { traits }),
    send: (type, ids, body) => write(type, ids.userId ?? null, body, ids.anonymousId),
    async runUntil(at) {
      const target = new Date(at)
      await workers.drain()
      for (;;) {
        const times = [await nextTimerAt(db), await workers.dispatcher.nextAt()].filter((t) => t !== null)
        const next = times.sort((a, b) => a.getTime() - b.getTime())[0]
        if (!next || next > target) break
        if (next > clock.now()) clock.set(next)
        await workers.drain()
      }
      if (target > clock.now()) clock.set(target)
      await workers.drain()
    },
    async sends() {
      const rows = await db.query<{ user_id: string; channel: string; template: string; created_at: Date }>(
        `SELECT p.user_id, m.channel, m.template, m.created_at FROM messages m
         JOIN profiles p ON p.workspace_id = m.workspace_id AND p.profile_id = m.profile_id
         ORDER BY m.created_at, p.user_id, m.channel`,
      )
      return rows.map((r) => `${r.user_id} ${r.channel}:${r.template} ${r.created_at.toISOString()}`)
    },
    async close() {
      await workers.stop()
      await db.close()
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
}
