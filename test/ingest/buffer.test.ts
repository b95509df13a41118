import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest'
import type { NudgeError } from '../../src/domain/errors.ts'
import type { NewEvent } from '../../src/domain/events/types.ts'
import { buildApp } from '../../src/http/app.ts'
import { silentLogger } from '../../src/log.ts'
import { makeIngestBuffer, NOTIFY_EVERY_MS } from '../../src/runtime/ingest-buffer.ts'
import type { Db, Queryable } from '../../src/store/db.ts'
import { EVENTS_CHANNEL } from '../../src/store/events.ts'
import { fromPg } from '../../src/store/pg.ts'
import { ensureDefaultWorkspace } from '../../src/store/workspaces.ts'
import { describeEachDriver, openTestDb, serverUrl, type TestDb } from '../helpers/db.ts'
import { basic, WRITE_KEY } from './app.ts'

const ev = (messageId: string): NewEvent => ({
  workspaceId: 'default',
  messageId,
  type: 'track',
  name: 'Booked',
  userId: 'u1',
  anonymousId: null,
  timestamp: new Date('2026-03-01T10:00:00Z'),
  receivedAt: new Date('2026-03-01T10:00:00Z'),
  partition: 1,
  payload: { event: 'Booked' },
})

/** The real database, counting the statements that write events. */
function counting(db: Queryable): Queryable & { writes: number } {
  const c = {
    writes: 0,
    query: ((sql, params) => {
      if (sql.includes('INSERT INTO events')) c.writes++
      return db.query(sql, params)
    }) as Queryable['query'],
    exec: (sql: string) => db.exec(sql),
  }
  return c
}

/** The real database, logging its inserts of events and its NOTIFYs in order. */
function recording(db: Db): { q: Db; log: string[] } {
  const log: string[] = []
  const q: Db = {
    ...db,
    query: ((sql, params) => {
      if (sql.includes('pg_notify')) log.push('notify')
      else if (sql.includes('INSERT INTO events')) log.push('insert')
      return db.query(sql, params)
    }) as Queryable['query'],
  }
  return { q, log }
}

/** Lets the buffer start the write it scheduled for the next turn of the event loop. */
const nextTurn = () => new Promise((r) => setImmediate(r))

/**
 * Holds the events table in another transaction, so that a write stays in flight
 * until the returned function is called (on PGlite every query waits for it).
 */
async function holdWrites(db: TestDb): Promise<() => Promise<void>> {
  let release = () => {}
  const held = new Promise<void>((r) => {
    release = r
  })
  let locked = () => {}
  const isLocked = new Promise<void>((r) => {
    locked = r
  })
  const tx = db.transaction(async (t) => {
    await t.exec('LOCK TABLE events IN SHARE ROW EXCLUSIVE MODE')
    locked()
    await held
  })
  await isLocked
  return async () => {
    release()
    await tx
  }
}

const stored = async (db: TestDb) =>
  (await db.query<{ message_id: string }>('SELECT message_id FROM events ORDER BY seq')).map(
    (r) => r.message_id,
  )

describeEachDriver('ingest group commit', (driver) => {
  let db: TestDb
  beforeAll(async () => {
    db = await openTestDb(driver)
    // A real failing write: PostgreSQL refuses any row whose messageId starts with "poison".
    await db.exec(`
      CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.message_id LIKE 'poison%' THEN RAISE EXCEPTION 'poisoned write'; END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER refuse_poison BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION refuse_poison();`)
  })
  afterAll(() => db.close())
  beforeEach(() => db.exec('TRUNCATE events'))

  it('writes the requests that arrive during a write with one insert, and acknowledges each after its commit', async () => {
    const q = counting(db)
    const buffer = makeIngestBuffer({ db: q })
    const unblock = await holdWrites(db)
    const first = buffer.submit([ev('a1'), ev('a2')], 100)
    await nextTurn()
    const later = [
      buffer.submit([ev('b1')], 50),
      buffer.submit([ev('c1'), ev('c2')], 50),
      buffer.submit([ev('d1')], 50),
    ]
    expect(buffer.pending()).toEqual({ events: 4, bytes: 250 })
    await unblock()
    await first
    expect((await stored(db)).slice(0, 2)).toEqual(['a1', 'a2'])
    await Promise.all(later)
    expect(await stored(db)).toEqual(['a1', 'a2', 'b1', 'c1', 'c2', 'd1'])
    expect(q.writes).toBe(2)
    expect(buffer.pending()).toEqual({ events: 0, bytes: 0 })
  })

  it('wakes this process at once and the others by NOTIFY, once the events are committed', async () => {
    // Another process's processor: a Db of its own on the same database (pg), whose
    // listeners only a NOTIFY reaches. The channel is database-wide: on a shared server
    // another suite's commit may wake it too, before ours is committed. Only a wake-up that
    // sees n1 counts; without a NOTIFY after the commit the test waits in vain and fails.
    const other = serverUrl && db.schema ? await fromPg(serverUrl, { schema: db.schema, max: 1 }) : db
    const wakeOn = (on: Db) => {
      let seen: string[] | undefined
      let woke = () => {}
      const woken = new Promise<string[]>((resolve) => {
        woke = () => resolve(seen ?? [])
      })
      const listening = on.listen(EVENTS_CHANNEL, () => {
        void stored(db).then((ids) => {
          if (!ids.includes('n1')) return
          seen ??= ids
          woke()
        })
      })
      return { woken, listening }
    }
    const here = wakeOn(db)
    const there = wakeOn(other)
    const unlisten = await Promise.all([here.listening, there.listening])
    await new Promise((r) => setTimeout(r, 50)) // LISTEN is registered asynchronously on the server
    await makeIngestBuffer({ db }).submit([ev('n1')], 1)
    expect(await here.woken).toEqual(['n1'])
    expect(await there.woken).toEqual(['n1'])
    for (const u of unlisten) await u()
    if (other !== db) await other.close()
  })

  it('calls its own listeners for each write, and sends at most one NOTIFY per interval, the last after the last write', async () => {
    const { q, log } = recording(db)
    let wakes = 0
    const unlisten = await db.listen(EVENTS_CHANNEL, () => {
      wakes++
    })
    // Microtasks only: a NOTIFY coming back from the server needs I/O, so what counts here
    // is the direct call.
    const settle = async () => {
      for (let k = 0; k < 5; k++) await Promise.resolve()
    }
    const buffer = makeIngestBuffer({ db: q })
    const started = performance.now()
    for (let i = 0; i < 20; i++) {
      const before = wakes
      await buffer.submit([ev(`t${i}`)], 1)
      await settle()
      expect(wakes).toBeGreaterThan(before)
    }
    const elapsed = performance.now() - started
    await new Promise((r) => setTimeout(r, NOTIFY_EVERY_MS * 3)) // the trailing NOTIFY
    await unlisten()
    expect(await stored(db)).toHaveLength(20)
    const notifies = log.filter((x) => x === 'notify').length
    if (driver === 'pglite') {
      expect(notifies).toBe(0) // no other process to tell
    } else {
      expect(notifies).toBeLessThanOrEqual(Math.ceil(elapsed / NOTIFY_EVERY_MS) + 1)
      // The writes of the last interval are told too: a NOTIFY comes after the last insert.
      expect(log.lastIndexOf('notify')).toBeGreaterThan(log.lastIndexOf('insert'))
    }
  })

  it('sends the NOTIFY an interval holds back when it is closed', async () => {
    const { q, log } = recording(db)
    const buffer = makeIngestBuffer({ db: q, notifyEveryMs: 60_000 })
    await buffer.submit([ev('c1')], 1)
    await buffer.submit([ev('c2')], 1) // within the interval of the first NOTIFY: held back
    await new Promise((r) => setTimeout(r, 50))
    if (driver === 'pg') expect(log).toEqual(['insert', 'notify', 'insert'])
    await buffer.close?.()
    if (driver === 'pglite') expect(log).toEqual(['insert', 'insert'])
    else expect(log.lastIndexOf('notify')).toBeGreaterThan(log.lastIndexOf('insert'))
  })

  it('keeps a request whole and caps the events per write', async () => {
    const q = counting(db)
    const buffer = makeIngestBuffer({ db: q, maxWriteEvents: 3 })
    const all = [
      buffer.submit([ev('x1')], 1),
      buffer.submit([ev('y1'), ev('y2')], 1),
      buffer.submit([ev('z1'), ev('z2')], 1),
      buffer.submit([ev('w1'), ev('w2'), ev('w3'), ev('w4')], 1),
    ]
    await Promise.all(all)
    // x1 y1 y2 | z1 z2 (w would make 6) | w1..w4 (alone, larger than the cap, never split)
    expect(q.writes).toBe(3)
    expect((await stored(db)).length).toBe(9)
  })

  it('fails exactly the requests of a failed write with a 503, and loses nothing acknowledged', async () => {
    const buffer = makeIngestBuffer({ db })
    const unblock = await holdWrites(db)
    const first = buffer.submit([ev('ok1')], 1)
    await nextTurn()
    const group = [
      buffer.submit([ev('ok2')], 1),
      buffer.submit([ev('poison1')], 1),
      buffer.submit([ev('ok3')], 1),
    ]
    await unblock()
    await expect(first).resolves.toEqual({ duplicates: 0 })
    const outcomes = await Promise.allSettled(group)
    for (const o of outcomes) {
      expect(o.status).toBe('rejected')
      const err = (o as PromiseRejectedResult).reason as NudgeError
      expect([err.code, err.status]).toEqual(['NUDGE_ERR_INGEST_WRITE_FAILED', 503])
    }
    expect(await stored(db)).toEqual(['ok1'])
    // The SDK retries the 503s; the healthy ones now go through.
    await Promise.all([buffer.submit([ev('ok2')], 1), buffer.submit([ev('ok3')], 1)])
    expect(await stored(db)).toEqual(['ok1', 'ok2', 'ok3'])
  })

  it('refuses new work past its memory bound instead of queueing without end', async () => {
    const buffer = makeIngestBuffer({ db, maxQueuedBytes: 1000 })
    const unblock = await holdWrites(db)
    const first = buffer.submit([ev('m1')], 600)
    await expect(buffer.submit([ev('m2')], 600)).rejects.toMatchObject({
      code: 'NUDGE_ERR_INGEST_BUSY',
      status: 503,
    })
    await unblock()
    await first
    await buffer.submit([ev('m2')], 600)
    expect(await stored(db)).toEqual(['m1', 'm2'])
  })

  it('answers 503 with Retry-After over HTTP when the buffer is full or the write fails', async () => {
    await ensureDefaultWorkspace(db, { writeKey: WRITE_KEY })
    const buffer = makeIngestBuffer({ db, maxQueuedBytes: 10 })
    const app = await buildApp({ db, log: silentLogger, ingest: buffer })
    const post = (messageId: string) =>
      app.inject({
        method: 'POST',
        url: '/v1/track',
        headers: { authorization: basic(WRITE_KEY) },
        payload: { userId: 'u', event: 'E', messageId },
      })
    await post('warm-up') // caches the key: the requests below only touch the events table
    const unblock = await holdWrites(db) // the first request's write stays in flight
    const first = post('h1')
    while (buffer.pending().bytes === 0) await new Promise((r) => setImmediate(r))
    const refused = await post('h2')
    expect(refused.statusCode).toBe(503)
    expect(refused.headers['retry-after']).toBe('1')
    expect(refused.json().error.code).toBe('NUDGE_ERR_INGEST_BUSY')
    await unblock()
    expect((await first).statusCode).toBe(200)
    const poisoned = await post('poison-http')
    expect(poisoned.statusCode).toBe(503)
    expect(poisoned.json().error.code).toBe('NUDGE_ERR_INGEST_WRITE_FAILED')
    expect(await stored(db)).toEqual(['warm-up', 'h1'])
    await app.close()
  })
})
