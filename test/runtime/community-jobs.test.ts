// Configuration changes applied in the background: the change answers at once with a job,
// the workers go through every member a page at a time, a page rolled back (a crash) is
// done again from the same place, and a newer funnel supersedes a running job.

import { readFileSync } from 'node:fs'
import { afterEach, expect, it } from 'vitest'
import { silentLogger } from '../../src/log.ts'
import { setScoreConfig, setStageConfig } from '../../src/runtime/community/configure.ts'
import {
  JOB_PAGE,
  JOB_TIMER,
  jobTimerId,
  makeJobTimer,
  NO_PROFILE,
} from '../../src/runtime/community/jobs.ts'
import { getCommunityJob } from '../../src/store/community-jobs.ts'
import type { ClaimedTimer } from '../../src/store/timers.ts'
import { describeEachDriver } from '../helpers/db.ts'
import { makeWorld, type World } from '../helpers/world.ts'

const FUNNEL = {
  stages: [
    { id: 'newcomer', name: 'Newcomer', criteria: { type: 'all', conditions: [] } },
    { id: 'member', name: 'Member', criteria: { type: 'performed', event: 'Signed Up', min: 1 } },
  ],
}

describeEachDriver('community configuration jobs', (driver) => {
  let world: World
  afterEach(() => world.close())

  const stagesOf = async () =>
    world.db.query<{ stage: string; n: number }>(
      `SELECT stage, count(*)::int AS n FROM profile_stages GROUP BY stage ORDER BY stage`,
    )
  const timerOf = (jobId: number): ClaimedTimer => ({
    workspaceId: 'default',
    profileId: NO_PROFILE,
    timerId: jobTimerId(jobId),
    kind: JOB_TIMER,
    fireAt: world.clock.now(),
    payload: { job: jobId },
    attempts: 0,
    leaseOwner: 'test',
  })

  it('re-evaluates every member in the background, page by page, resuming after a crash', async () => {
    world = await makeWorld(driver, '2026-03-02T10:00:00Z')
    await world.identify('ann', { email: 'ann@example.com' })
    await world.track('ann', 'Signed Up')
    // 450 more profiles that never got a stage (imported, say): the new funnel places them.
    await world.db.query(
      `INSERT INTO profiles (workspace_id, profile_id, traits, first_seen_at, last_seen_at, created_at, updated_at)
       SELECT 'default', lpad(to_hex(g), 32, '0')::uuid, '{}', $1, $1, $1, $1 FROM generate_series(1, 450) g`,
      ['2026-03-01T00:00:00Z'],
    )
    const changed = await world.db.transaction((tx) =>
      setStageConfig(tx, 'default', FUNNEL, world.clock.now(), 'claire'),
    )
    if (!changed.ok) throw new Error(JSON.stringify(changed.issues))
    const job = changed.value.job
    // The change answers before any member is touched.
    expect([job.kind, job.status, job.membersTotal, job.membersDone, changed.value.members]).toEqual([
      'stages',
      'running',
      451,
      0,
      451,
    ])
    expect(await stagesOf()).toEqual([{ stage: 'member', n: 1 }])

    const fire = makeJobTimer(silentLogger)
    // A page whose transaction is rolled back (a crash) leaves nothing behind.
    await expect(
      world.db.transaction(async (tx) => {
        await fire(tx, timerOf(job.id), world.clock.now())
        throw new Error('crash')
      }),
    ).rejects.toThrow('crash')
    expect((await getCommunityJob(world.db, 'default', job.id))?.membersDone).toBe(0)
    expect(await stagesOf()).toEqual([{ stage: 'member', n: 1 }])

    // One page, committed: exactly JOB_PAGE members placed, the cursor after them.
    const out = await world.db.transaction((tx) => fire(tx, timerOf(job.id), world.clock.now()))
    expect(out).toEqual({ postponeTo: world.clock.now() })
    const afterOne = await getCommunityJob(world.db, 'default', job.id)
    expect([afterOne?.status, afterOne?.membersDone]).toEqual(['running', JOB_PAGE])
    const placed = (await stagesOf()).reduce((n, r) => n + r.n, 0)
    // The page holds 200 of the 451 profiles; ann (already a member) may or may not be in it.
    expect(placed === JOB_PAGE || placed === JOB_PAGE + 1).toBe(true)

    // The workers finish it.
    await world.workers.drain()
    const done = await getCommunityJob(world.db, 'default', job.id)
    expect([done?.status, done?.membersDone, done?.membersFailed]).toEqual(['done', 451, 0])
    expect(await stagesOf()).toEqual([
      { stage: 'member', n: 1 },
      { stage: 'newcomer', n: 450 },
    ])
    // ann's history is kept, and `member` exists in the new funnel too: she stays there.
    const history = await world.db.query<{ stage: string; previous_stage: string | null }>(
      `SELECT h.stage, h.previous_stage FROM profile_stage_history h JOIN profiles p USING (workspace_id, profile_id)
       WHERE p.user_id = 'ann' ORDER BY h.seq`,
    )
    expect(history.map((h) => `${h.previous_stage ?? '-'}→${h.stage}`)).toEqual([
      '-→visitor',
      'visitor→prospect',
      'prospect→member',
    ])
    const timers = await world.db.query('SELECT 1 FROM timers WHERE kind = $1', [JOB_TIMER])
    expect(timers).toEqual([])
  })

  it('lets a newer funnel supersede a running job', async () => {
    world = await makeWorld(driver, '2026-03-02T10:00:00Z')
    await world.track('bob', 'Page Viewed')
    const first = await world.db.transaction((tx) =>
      setStageConfig(tx, 'default', FUNNEL, world.clock.now(), 'a'),
    )
    const second = await world.db.transaction((tx) =>
      setStageConfig(tx, 'default', { stages: FUNNEL.stages.slice(0, 1) }, world.clock.now(), 'b'),
    )
    if (!first.ok || !second.ok) throw new Error('refused')
    expect((await getCommunityJob(world.db, 'default', first.value.job.id))?.status).toBe('superseded')
    await world.workers.drain()
    const [a, b] = await Promise.all(
      [first, second].map((c) => getCommunityJob(world.db, 'default', c.value.job.id)),
    )
    expect([a?.status, a?.membersDone, b?.status, b?.membersDone]).toEqual(['superseded', 0, 'done', 1])
    expect(await stagesOf()).toEqual([{ stage: 'newcomer', n: 1 }])
  })

  it('re-ranks scores and moves decay timers for a new score table in the background', async () => {
    world = await makeWorld(driver, '2026-03-02T00:00:00Z')
    // 6 points, below the default thresholds (25 and up): no decay timer yet.
    await world.track('ann', 'Post Created')
    const decay = () =>
      world.db.query<{ fire_at: Date }>(`SELECT fire_at FROM timers WHERE kind = 'community.decay'`)
    expect(await decay()).toEqual([])
    const changed = await world.db.transaction((tx) =>
      setScoreConfig(
        tx,
        'default',
        { half_life: '10d', points: { 'Post Created': 6 }, thresholds: [5] },
        world.clock.now(),
        'test',
      ),
    )
    if (!changed.ok) throw new Error('refused')
    await world.workers.drain()
    const job = await getCommunityJob(world.db, 'default', changed.value.job.id)
    expect([job?.kind, job?.status, job?.membersDone]).toEqual(['score', 'done', 1])
    // 6 falls below 5 after 10d · log2(6/5) = 2.6303440583 days.
    const below = Date.parse('2026-03-02T00:00:00Z') + Math.ceil(10 * 86_400_000 * Math.log2(6 / 5))
    expect((await decay()).map((t) => t.fire_at.getTime())).toEqual([below])
    const [rank] = await world.db.query<{ rank_key: number }>('SELECT rank_key FROM profile_scores')
    expect(rank!.rank_key).toBeCloseTo(
      Math.log2(6) + Date.parse('2026-03-02T00:00:00Z') / (10 * 86_400_000),
      6,
    )
  })

  it('brings the state of profiles merged before state followed merges into their survivors (migration 021)', async () => {
    world = await makeWorld(driver, '2026-03-02T10:00:00Z')
    await world.identify('ann', { email: 'ann@example.com' })
    await world.track('ann', 'Signed Up')
    await world.send('track', { anonymousId: 'x-1' }, { event: 'Post Created', properties: {} })
    const id = async (where: string) =>
      (await world.db.query<{ profile_id: string }>(`SELECT profile_id FROM profiles WHERE ${where}`))[0]!
        .profile_id
    const ann = await id(`user_id = 'ann'`)
    const anon = await id(`user_id IS NULL`)
    // What a merge used to do: the profile row only, its community rows left behind.
    await world.db.query('UPDATE profiles SET merged_into = $1 WHERE profile_id = $2', [ann, anon])
    const sql = readFileSync(
      new URL('../../src/store/migrations/021_community_jobs.sql', import.meta.url),
      'utf8',
    )
    await world.db.exec(sql.slice(sql.indexOf('-- Profiles merged into another before')))
    const [job] = await world.db.query<{ job_id: number; members_total: number }>(
      `SELECT job_id, members_total FROM community_jobs WHERE kind = 'merges'`,
    )
    expect(Number(job!.members_total)).toBe(1)
    // The migration set its timer by the database's clock; this world runs on a fake one.
    await world.db.query(`UPDATE timers SET fire_at = $1 WHERE kind = 'community.job'`, [world.clock.now()])
    await world.workers.drain()
    const done = await getCommunityJob(world.db, 'default', Number(job!.job_id))
    expect([done?.status, done?.membersDone, done?.membersFailed]).toEqual(['done', 1, 0])
    const rows = await world.db.query<{ profile_id: string; stage: string }>(
      'SELECT profile_id, stage FROM profile_stages ORDER BY profile_id',
    )
    expect(rows).toEqual([{ profile_id: ann, stage: 'member' }])
    const scores = await world.db.query<{ profile_id: string; value: number }>(
      'SELECT profile_id, value FROM profile_scores',
    )
    // Signed Up 3 + Post Created 6, at the same moment.
    expect(scores.map((r) => [r.profile_id, Number(r.value)])).toEqual([[ann, 9]])
    const cohorts = await world.db.query<{ members: number }>(
      `SELECT members::int FROM stage_cohorts WHERE stage = 'visitor'`,
    )
    expect(cohorts).toEqual([{ members: 1 }])
  })
})
