// Publishing through the admin API while runs are under way: a run stays on the version it
// entered, new entries take the newly published one. The real processor and scheduler run
// on a fake clock, on the database the admin API writes to.
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { buildApp } from '../../src/http/app.ts'
import { silentLogger } from '../../src/log.ts'
import { createKey } from '../../src/store/workspaces.ts'
import { describeEachDriver } from '../helpers/db.ts'
import { makeWorld, type World } from '../helpers/world.ts'

const journey = (template: string) => ({
  id: 'tip',
  name: 'Tip two days after sign-up',
  trigger: { type: 'event', event: 'Signed Up' },
  entry: { type: 'once' },
  steps: [
    { id: 'two-days', type: 'delay', for: '2d' },
    { id: 'tip', type: 'send', channel: 'email', template },
  ],
})

describeEachDriver('admin API: runs stay on the version they entered', (driver) => {
  let world: World
  let app: FastifyInstance
  let auth: { authorization: string }
  const call = async (method: 'POST' | 'PUT', url: string, payload?: Record<string, unknown>) => {
    const res = await app.inject({ method, url, headers: auth, ...(payload ? { payload } : {}) })
    expect(res.statusCode, res.body).toBe(200)
    return res.json()
  }

  beforeAll(async () => {
    world = await makeWorld(driver, '2026-03-02T10:00:00Z')
    auth = { authorization: `Bearer ${(await createKey(world.db, 'default', 'admin')).secret}` }
    app = await buildApp({ db: world.db, log: silentLogger, clock: world.clock })
    for (const name of ['tip-v1', 'tip-v2'])
      await call('PUT', `/api/v1/templates/${name}`, { channel: 'email', subject: 'A tip', text: name })
  })
  afterAll(async () => {
    await app.close()
    await world.close()
  })

  it('publishes v2 while a v1 run is mid-delay: the run finishes on v1, new entries run v2', async () => {
    await call('POST', '/api/v1/journeys', journey('tip-v1'))
    await call('POST', '/api/v1/journeys/tip/publish')
    world.workers.catalog.invalidate()
    await world.track('ann', 'Signed Up')
    await world.runUntil('2026-03-03T10:00:00Z')

    const v2 = await call('POST', '/api/v1/journeys', journey('tip-v2'))
    expect(v2.outcome).toBe('versioned')
    expect((await call('POST', '/api/v1/journeys/tip/publish')).liveVersion).toBe(2)
    world.workers.catalog.invalidate()
    await world.track('bob', 'Signed Up')
    await world.runUntil('2026-03-10T00:00:00Z')

    expect(await world.sends()).toEqual([
      'ann email:tip-v1 2026-03-04T10:00:00.000Z',
      'bob email:tip-v2 2026-03-05T10:00:00.000Z',
    ])
    const runs = await world.db.query<{ user_id: string; version: number; status: string }>(
      `SELECT p.user_id, r.version, r.status FROM journey_runs r JOIN profiles p USING (workspace_id, profile_id)
       ORDER BY p.user_id`,
    )
    expect(runs).toEqual([
      { user_id: 'ann', version: 1, status: 'completed' },
      { user_id: 'bob', version: 2, status: 'completed' },
    ])
  })
})
