// The community admin API over a running model: configuration refused whole with precise
// issues or applied to every member, manual moves and revocations recorded with who did
// it, the reports, the profile's community view, and the member's own badges.
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { memberToken } from '../../src/domain/member-auth.ts'
import { buildApp } from '../../src/http/app.ts'
import { silentLogger } from '../../src/log.ts'
import { workspaceIdentitySecret } from '../../src/store/workspace-secrets.ts'
import { createKey } from '../../src/store/workspaces.ts'
import { describeEachDriver } from '../helpers/db.ts'
import { makeWorld, type World } from '../helpers/world.ts'

const BASIC = {
  stages: [
    { id: 'visitor', name: 'Visitor', criteria: { type: 'all', conditions: [] }, stuck_after: '30d' },
    {
      id: 'member',
      name: 'Member',
      criteria: { type: 'performed', event: 'Signed Up', min: 1 },
      stuck_after: '7d',
    },
    {
      id: 'active_member',
      name: 'Active member',
      criteria: { type: 'performed', event: 'Topic Created', within: '30d', min: 1 },
    },
  ],
}

describeEachDriver('community admin API', (driver) => {
  let world: World
  let app: FastifyInstance
  let auth: { authorization: string }
  beforeAll(async () => {
    world = await makeWorld(driver, '2026-03-02T10:00:00Z')
    app = await buildApp({ db: world.db, log: silentLogger, clock: world.clock })
    auth = { authorization: `Bearer ${(await createKey(world.db, 'default', 'admin')).secret}` }
    await world.identify('ann', { email: 'ann@example.com' })
    await world.track('ann', 'Signed Up')
    await world.track('bob', 'Page Viewed')
  })
  afterAll(async () => {
    await app.close()
    await world.close()
  })

  const call = async (method: 'GET' | 'PUT' | 'POST', url: string, payload?: object) => {
    const res = await app.inject({
      method,
      url,
      headers: auth,
      ...(payload === undefined ? {} : { payload }),
    })
    return { status: res.statusCode, body: res.json() }
  }
  const stageOf = async (userId: string) => (await call('GET', `/api/v1/profiles/${userId}`)).body.community

  it('refuses a bad funnel whole, with the path and reason of every problem', async () => {
    const bad = {
      stages: [
        { id: 'visitor', name: 'Visitor', criteria: { type: 'all', conditions: [] }, stuck_afte: '30d' },
        { id: 'member', name: 'Member', criteria: { type: 'stage', op: 'gte', stage: 'ambassador' } },
        { id: 'member', name: 'Member again', criteria: { type: 'all', conditions: [] } },
        { id: 'ambassador', name: 'Ambassador', criteria: { type: 'all', conditions: [] } },
      ],
    }
    const { status, body } = await call('PUT', '/api/v1/community/stages', { config: bad })
    expect(status).toBe(400)
    expect(body.error.code).toBe('NUDGE_ERR_VALIDATION')
    expect(body.error.issues).toEqual([
      { path: 'stages[0].stuck_afte', message: 'unknown field "stuck_afte"' },
    ])
    const fixed = { stages: bad.stages.map(({ stuck_afte: _, ...s }: Record<string, unknown>) => s) }
    const again = await call('PUT', '/api/v1/community/stages', { config: fixed })
    expect(again.status).toBe(400)
    expect(again.body.error.issues.map((i: { path: string }) => i.path)).toEqual([
      'stages[2].id',
      'stages[1].criteria.stage',
    ])
    expect(again.body.error.issues[0].message).toBe('duplicate stage id "member" (also stages[1])')
    expect(again.body.error.issues[1].message).toMatch(/cycle/)
    const score = await call('PUT', '/api/v1/community/score', {
      config: { half_life: 0, points: {}, thresholds: [] },
    })
    expect([score.status, score.body.error.issues[0].path]).toEqual([400, 'half_life'])
    // Nothing changed: still the six default stages.
    const current = await call('GET', '/api/v1/community/stages')
    expect(current.body.config.stages.map((s: { id: string }) => s.id)).toEqual([
      'visitor',
      'prospect',
      'member',
      'active_member',
      'ambassador',
      'evangelist',
    ])
    expect((await stageOf('ann')).stage.id).toBe('member')
  })

  it('applies a new funnel to every member, keeping their history', async () => {
    const { status, body } = await call('PUT', '/api/v1/community/stages', { config: BASIC, by: 'claire' })
    expect([status, body.members]).toEqual([200, 2])
    // Applied in the background: the answer says by which job, and the job shows progress.
    expect(body.job).toMatchObject({ kind: 'stages', status: 'running', membersTotal: 2, membersDone: 0 })
    const listed = await call('GET', '/api/v1/community/jobs')
    expect(listed.body.jobs.map((j: { id: number; createdBy: string }) => [j.id, j.createdBy])).toEqual([
      [body.job.id, 'claire'],
    ])
    await world.workers.drain()
    const done = await call('GET', `/api/v1/community/jobs/${body.job.id}`)
    expect(done.body).toMatchObject({ status: 'done', membersDone: 2, membersFailed: 0 })
    expect(done.body.finishedAt).toBe('2026-03-02T10:00:00.000Z')
    expect((await call('GET', '/api/v1/community/jobs/999999')).status).toBe(404)
    // ann was a member under the old funnel and still is; bob stays a visitor.
    expect((await stageOf('ann')).stage).toEqual({
      id: 'member',
      name: 'Member',
      enteredAt: '2026-03-02T10:00:00.000Z',
      stuck: false,
    })
    expect((await stageOf('bob')).stage.id).toBe('visitor')
    const history = await world.db.query<{ stage: string }>(
      `SELECT h.stage FROM profile_stage_history h JOIN profiles p USING (workspace_id, profile_id)
       WHERE p.user_id = 'ann' ORDER BY h.seq`,
    )
    expect(history.map((h) => h.stage)).toEqual(['visitor', 'prospect', 'member'])
  })

  it('moves a member by hand one stage at a time, recording who did it', async () => {
    const { status, body } = await call('POST', '/api/v1/profiles/bob/stage', {
      stage: 'active_member',
      by: 'claire',
    })
    expect([status, body]).toEqual([200, { stage: 'active_member', transitions: 2 }])
    await world.workers.drain()
    const moves = await world.db.query<{ stage: string; moved_by: string }>(
      `SELECT h.stage, h.moved_by FROM profile_stage_history h JOIN profiles p USING (workspace_id, profile_id)
       WHERE p.user_id = 'bob' ORDER BY h.seq`,
    )
    expect(moves).toEqual([
      { stage: 'visitor', moved_by: null },
      { stage: 'member', moved_by: 'claire' },
      { stage: 'active_member', moved_by: 'claire' },
    ])
    const unknown = await call('POST', '/api/v1/profiles/bob/stage', { stage: 'guru' })
    expect([unknown.status, unknown.body.error.issues[0].path]).toEqual([400, 'stage'])
    const nobody = await call('POST', '/api/v1/profiles/nobody/stage', { stage: 'member' })
    expect(nobody.status).toBe(404)
  })

  it('backfills badge rules, revokes a badge with who and why, and shows the member their badges', async () => {
    const bad = await call('PUT', '/api/v1/community/badges', {
      config: [{ id: 'joined', name: 'Joined', when: { type: 'stage', stage: 'prospect' } }],
    })
    expect(bad.status).toBe(400)
    expect(bad.body.error.issues).toEqual([
      { path: '[0].when.stage', message: 'unknown stage "prospect": this badge could never be awarded' },
    ])
    const ok = await call('PUT', '/api/v1/community/badges', {
      config: [
        { id: 'joined', name: 'Joined', when: { type: 'stage', stage: 'member' } },
        { id: 'welcomed', name: 'Welcomed', when: { type: 'event', event: 'Signed Up' } },
      ],
    })
    expect([ok.status, ok.body.job.kind, ok.body.job.rules]).toEqual([200, 'badges', ['joined', 'welcomed']])
    await world.workers.drain()
    const job = await call('GET', `/api/v1/community/jobs/${ok.body.job.id}`)
    expect([job.body.status, job.body.awards]).toEqual(['done', 3])
    expect((await stageOf('ann')).badges.map((b: { badge: string }) => b.badge).sort()).toEqual([
      'joined',
      'welcomed',
    ])
    const revoke = await call('POST', '/api/v1/profiles/ann/badges/welcomed/revoke', {
      reason: 'test account',
      by: 'mod',
    })
    expect(revoke.status).toBe(200)
    expect((await call('POST', '/api/v1/profiles/ann/badges/welcomed/revoke', {})).status).toBe(404)
    const [revoked] = await world.db.query<{ payload: { properties: unknown } }>(
      `SELECT payload FROM events WHERE name = 'Badge Revoked'`,
    )
    expect(revoked?.payload.properties).toEqual({ badge: 'welcomed', by: 'mod', reason: 'test account' })
    // A new Signed Up does not give a revoked badge back.
    await world.track('ann', 'Signed Up')
    expect((await stageOf('ann')).badges.map((b: { badge: string }) => b.badge)).toEqual(['joined'])
    expect((await call('GET', '/api/v1/reports/badges')).body.badges).toEqual([
      { badge: 'joined', holders: 2, awards: 2 },
    ])

    const secret = (await workspaceIdentitySecret(world.db, 'default')) ?? ''
    const mine = await app.inject({
      method: 'GET',
      url: '/v1/member/badges',
      headers: { authorization: `Bearer ${memberToken(secret, 'ann')}`, 'x-nudge-user': 'ann' },
    })
    expect(mine.statusCode).toBe(200)
    expect(mine.json()).toEqual({
      badges: [{ badge: 'joined', name: 'Joined', count: 1, awardedAt: '2026-03-02T10:00:00.000Z' }],
    })
    const forged = await app.inject({
      method: 'GET',
      url: '/v1/member/badges',
      headers: { authorization: `Bearer ${memberToken(secret, 'bob')}`, 'x-nudge-user': 'ann' },
    })
    expect(forged.statusCode).toBe(401)
  })

  it('answers the reports', async () => {
    await world.runUntil('2026-03-12T10:00:00Z')
    const stages = await call('GET', '/api/v1/reports/stages')
    expect(stages.body.stages).toEqual([
      { stage: 'visitor', name: 'Visitor', members: 0 },
      { stage: 'member', name: 'Member', members: 1 },
      { stage: 'active_member', name: 'Active member', members: 1 },
    ])
    const stuck = await call('GET', '/api/v1/reports/stuck?stage=member')
    expect(stuck.body.stages).toEqual([
      { stage: 'visitor', stuck: 0 },
      { stage: 'member', stuck: 1 },
      { stage: 'active_member', stuck: 0 },
    ])
    expect(stuck.body.members.map((m: { userId: string }) => m.userId)).toEqual(['ann'])
    const conversion = await call('GET', '/api/v1/reports/stages/conversion?from=2026-03-01T00:00:00Z')
    expect(conversion.body.stages[0]).toMatchObject({
      stage: 'visitor',
      entered: 2,
      promoted: 2,
      conversion: 1,
    })
    const over = await call(
      'GET',
      '/api/v1/reports/stages/history?from=2026-03-01T00:00:00Z&to=2026-03-03T00:00:00Z&points=2',
    )
    expect(
      over.body.series.map((p: { stages: { members: number }[] }) => p.stages.map((s) => s.members)),
    ).toEqual([
      [0, 0, 0],
      [0, 1, 1],
    ])
    const activity = await call('GET', '/api/v1/reports/activity')
    expect(activity.body).toMatchObject({ active: 1, inactive: 1 })
    const top = await call('GET', '/api/v1/reports/top-contributors')
    expect(top.body.members).toHaveLength(1)
    const cohorts = await call('GET', '/api/v1/reports/cohorts?from=2026-02-01T00:00:00Z&weeks=2')
    expect(cohorts.body.cohorts).toEqual([
      { cohort: '2026-03-02T00:00:00.000Z', members: 2, retained: [1, 0] },
    ])
    const wrong = await call(
      'GET',
      '/api/v1/reports/stages/conversion?from=2026-04-01T00:00:00Z&to=2026-03-01T00:00:00Z',
    )
    expect(wrong.status).toBe(400)
  })
})
