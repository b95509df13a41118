// Kill -9 a worker while it fires the due delay timers of many runs: after another worker
// takes over, every member has exactly one message for the step after the delay, and every
// run has completed. Nothing lost, nothing repeated.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FakeClock } from '../../src/domain/clock.ts'
import { partitionOf } from '../../src/domain/events/partition.ts'
import { silentLogger } from '../../src/log.ts'
import { makeWorkers } from '../../src/runtime/workers.ts'
import { insertEvents } from '../../src/store/events.ts'
import { applyJourney } from '../../src/store/journeys.ts'
import { ensureDefaultWorkspace } from '../../src/store/workspaces.ts'
import { openTestDb, serverUrl, type TestDb } from '../helpers/db.ts'
import { startWorker } from '../helpers/worker-process.ts'

const workerScript = new URL('../helpers/journey-worker.ts', import.meta.url).pathname
const MEMBERS = 400

const count = async (db: TestDb, sql: string) => (await db.query<{ n: number }>(sql))[0]!.n

const JOURNEY_TIMERS = `SELECT count(*)::int AS n FROM timers WHERE kind = 'journey'`

describe.skipIf(!serverUrl)('journey crash [pg]', () => {
  let db: TestDb
  beforeAll(async () => {
    db = await openTestDb('pg')
    await ensureDefaultWorkspace(db)
    await db.transaction((tx) =>
      applyJourney(
        tx,
        'default',
        {
          id: 'follow-up',
          name: 'Follow-up',
          trigger: { type: 'event', event: 'Signed Up' },
          entry: { type: 'once' },
          steps: [
            { id: 'wait-an-hour', type: 'delay', for: '1h' },
            { id: 'follow-up-mail', type: 'send', channel: 'email', template: 'follow-up' },
          ],
        },
        { publish: true },
      ),
    )
    // The members signed up two hours ago: their runs wait on delay timers already due.
    const clock = new FakeClock(Date.now() - 2 * 3600_000)
    const signedUp = clock.now()
    await insertEvents(
      db,
      Array.from({ length: MEMBERS }, (_, i) => ({
        workspaceId: 'default',
        messageId: `signup-${i}`,
        type: 'track' as const,
        name: 'Signed Up',
        userId: `member-${i}`,
        anonymousId: null,
        timestamp: signedUp,
        receivedAt: signedUp,
        partition: partitionOf('default', `member-${i}`, null),
        payload: { type: 'track', event: 'Signed Up', userId: `member-${i}` },
      })),
    )
    const setup = await makeWorkers({ db, clock, log: silentLogger, workerId: 'setup' })
    await setup.processor.drain()
    await setup.stop()
  })
  afterAll(() => db.close())

  it('sends the step after the delay exactly once per member across a SIGKILL', async () => {
    expect(await count(db, `SELECT count(*)::int AS n FROM timers WHERE kind = 'journey'`)).toBe(MEMBERS)
    const victim = await startWorker(workerScript, db, 'victim')
    // Let it commit some of the batch, then kill it without warning.
    while ((await count(db, 'SELECT count(*)::int AS n FROM messages')) < 20) {
      await new Promise((r) => setTimeout(r, 5))
    }
    victim.kill('SIGKILL')
    await new Promise((r) => victim.once('exit', r))
    const sentBefore = await count(db, 'SELECT count(*)::int AS n FROM messages')
    expect(sentBefore).toBeLessThan(MEMBERS)
    // It died holding timers it had claimed and not finished: the case that must not lose them.
    expect(
      await count(db, `SELECT count(*)::int AS n FROM timers WHERE lease_owner = 'victim'`),
    ).toBeGreaterThan(0)
    // Timers it had claimed are leased for 1 s, then the survivor takes them over.
    const survivor = await startWorker(workerScript, db, 'survivor')
    try {
      const deadline = Date.now() + 60_000
      // The journey's timers; the community model keeps its own (stuck members) for later.
      while (Date.now() < deadline && (await count(db, JOURNEY_TIMERS)) > 0) {
        await new Promise((r) => setTimeout(r, 50))
      }
    } finally {
      survivor.kill('SIGKILL')
    }
    const perMember = await db.query<{ user_id: string; n: number }>(
      `SELECT p.user_id, count(m.message_id)::int AS n FROM profiles p
       LEFT JOIN messages m ON m.workspace_id = p.workspace_id AND m.profile_id = p.profile_id
         AND m.step_id = 'follow-up-mail'
       GROUP BY p.user_id`,
    )
    expect(perMember.length).toBe(MEMBERS)
    expect(perMember.filter((r) => r.n !== 1)).toEqual([])
    const runs = await db.query<{ status: string; n: number }>(
      'SELECT status, count(*)::int AS n FROM journey_runs GROUP BY status',
    )
    expect(runs).toEqual([{ status: 'completed', n: MEMBERS }])
    expect(await count(db, JOURNEY_TIMERS)).toBe(0)
  })
})
