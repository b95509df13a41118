// The segments admin API on a real database, with the real workers computing members.
import { afterAll, beforeAll, expect, it } from 'vitest'
import { FakeClock } from '../../src/domain/clock.ts'
import { buildApp } from '../../src/http/app.ts'
import { silentLogger } from '../../src/log.ts'
import { makeWorkers, type Workers } from '../../src/runtime/workers.ts'
import { ensureDefaultWorkspace } from '../../src/store/workspaces.ts'
import { describeEachDriver, openTestDb, type TestDb } from '../helpers/db.ts'
import { send } from '../processor/helpers.ts'
import { otherWorkspace } from './helpers.ts'

const pro = {
  id: 'pro',
  name: 'Pro plan',
  condition: { type: 'trait', path: 'plan', op: 'eq', value: 'pro' },
}

describeEachDriver('admin API: segments', (driver) => {
  let db: TestDb
  let app: Awaited<ReturnType<typeof buildApp>>
  let workers: Workers
  const clock = new FakeClock('2026-03-02T10:00:00Z')
  const auth = { authorization: 'Bearer nak_seg_admin' }
  const call = async (method: 'GET' | 'PUT' | 'DELETE', url: string, payload?: unknown) => {
    const res = await app.inject({ method, url, headers: auth, ...(payload ? { payload } : {}) })
    return { status: res.statusCode, body: res.json() }
  }

  beforeAll(async () => {
    db = await openTestDb(driver)
    await ensureDefaultWorkspace(db, { adminKey: 'nak_seg_admin', writeKey: 'nwk_seg_write' })
    app = await buildApp({ db, log: silentLogger, clock })
    workers = await makeWorkers({ db, clock, log: silentLogger, workerId: 'admin-segments' })
    // Five profiles before any segment exists: ann, cat and eve on the pro plan.
    await send(
      db,
      ...['ann', 'bob', 'cat', 'dan', 'eve'].map((userId, i) => ({
        type: 'identify' as const,
        userId,
        traits: { plan: i % 2 === 0 ? 'pro' : 'free' },
        timestamp: `2026-03-01T0${i}:00:00Z`,
      })),
    )
    await workers.drain()
  })
  afterAll(async () => {
    await app.close()
    await workers.stop()
    await db.close()
  })

  it('creates a segment whose members are backfilled by the workers, then lists it with counts', async () => {
    const put = await call('PUT', '/api/v1/segments/pro', pro)
    expect(put.status).toBe(200)
    expect(put.body).toMatchObject({ id: 'pro', name: 'Pro plan', members: 0, backfilling: true })
    // A rename while the backfill runs neither restarts nor stops it.
    const renamed = await call('PUT', '/api/v1/segments/pro', { ...pro, name: 'Pro' })
    expect(renamed.body).toMatchObject({ name: 'Pro', backfilling: true })
    await call('PUT', '/api/v1/segments/pro', pro)
    await workers.drain()
    const list = await call('GET', '/api/v1/segments')
    expect(list.body.items).toEqual([
      { ...pro, members: 3, backfilling: false, updatedAt: '2026-03-02T10:00:00.000Z' },
    ])
    expect((await call('GET', '/api/v1/segments/pro')).body.members).toBe(3)
    // Saving the same condition again (keys in another order) recomputes nothing.
    const same = await call('PUT', '/api/v1/segments/pro', {
      condition: { value: 'pro', op: 'eq', path: 'plan', type: 'trait' },
      name: 'Pro plan',
      id: 'pro',
    })
    expect(same.body).toMatchObject({ members: 3, backfilling: false })
  })

  it('pages through members', async () => {
    const ids: string[] = []
    let cursor: string | null = null
    let pages = 0
    do {
      const { status, body } = await call(
        'GET',
        `/api/v1/segments/pro/members?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      )
      expect(status).toBe(200)
      ids.push(...body.items.map((m: { userId: string; enteredAt: string }) => `${m.userId} ${m.enteredAt}`))
      cursor = body.nextCursor
      pages++
    } while (cursor && pages < 10)
    expect(pages).toBe(2)
    expect(ids.sort()).toEqual([
      'ann 2026-03-02T10:00:00.000Z',
      'cat 2026-03-02T10:00:00.000Z',
      'eve 2026-03-02T10:00:00.000Z',
    ])
  })

  it('refuses bad definitions with the paths at fault and keeps the saved one', async () => {
    const unknown = await call('PUT', '/api/v1/segments/vip', {
      id: 'vip',
      name: 'VIP',
      condition: { type: 'segment', segment: 'nope', member: true },
    })
    expect(unknown.status).toBe(400)
    expect(unknown.body.error.code).toBe('NUDGE_ERR_VALIDATION')
    expect(unknown.body.error.issues).toEqual([
      { path: 'body.condition', message: 'segment vip refers to unknown segment nope' },
    ])

    const a = { id: 'a', name: 'A', condition: { type: 'segment', segment: 'pro', member: true } }
    expect((await call('PUT', '/api/v1/segments/a', a)).status).toBe(200)
    const cycle = await call('PUT', '/api/v1/segments/pro', {
      ...pro,
      condition: { type: 'segment', segment: 'a', member: false },
    })
    expect(cycle.status).toBe(400)
    expect(cycle.body.error.issues[0].message).toMatch(/cycle: .*pro → a → pro|cycle: a → pro → a/)

    const badOp = await call('PUT', '/api/v1/segments/pro', {
      ...pro,
      condition: { type: 'trait', path: 'plan', op: 'equals', value: 'pro' },
    })
    expect(badOp.status).toBe(400)
    expect(badOp.body.error.issues[0].path).toBe('body.condition.op')

    const mismatch = await call('PUT', '/api/v1/segments/other', pro)
    expect(mismatch.body.error.issues).toEqual([
      { path: 'body.id', message: 'must be other, as in the path' },
    ])

    // A segment others are built on cannot go; the saved definition is intact.
    const inUse = await call('DELETE', '/api/v1/segments/pro')
    expect(inUse.status).toBe(409)
    expect(inUse.body.error.code).toBe('NUDGE_ERR_SEGMENT_IN_USE')
    expect((await call('GET', '/api/v1/segments/pro')).body.condition).toEqual(pro.condition)
    expect((await call('DELETE', '/api/v1/segments/a')).status).toBe(200)
  })

  it('deletes a segment with its members; other workspaces never see it', async () => {
    const otherKey = await otherWorkspace(db)
    const other = await app.inject({
      method: 'GET',
      url: '/api/v1/segments/pro',
      headers: { authorization: `Bearer ${otherKey}` },
    })
    expect(other.statusCode).toBe(404)
    expect((await call('DELETE', '/api/v1/segments/pro')).body).toEqual({ id: 'pro', deleted: true })
    expect((await call('GET', '/api/v1/segments/pro')).status).toBe(404)
    expect((await call('GET', '/api/v1/segments/pro/members')).status).toBe(404)
    expect(await db.query(`SELECT segment_id FROM segment_members`)).toEqual([])
    expect(await db.query(`SELECT timer_id FROM timers WHERE kind LIKE 'segment%'`)).toEqual([])
  })
})
