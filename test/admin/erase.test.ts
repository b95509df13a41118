import { afterAll, beforeAll, expect, it } from 'vitest'
import { compileStages } from '../../src/domain/community/stage-config.ts'
import { DEFAULT_STAGE_CONFIG } from '../../src/domain/community/stage-defaults.ts'
import { moveStage } from '../../src/domain/community/stage-progress.ts'
import { saveScore, saveStageOutcome } from '../../src/store/community.ts'
import { stageConversion } from '../../src/store/community-reports.ts'
import { gatherContent, newRollupWrites, writeRollups } from '../../src/store/community-rollups.ts'
import { insertMembers } from '../../src/store/segments.ts'
import { suppressionHash } from '../../src/store/suppressions.ts'
import { describeEachDriver } from '../helpers/db.ts'
import { type AdminFixture, adminFixture, seedEvents, seedProfile } from './helpers.ts'

describeEachDriver('admin API: erasing a profile', (driver) => {
  let f: AdminFixture
  let ann: string
  let annAnon: string
  let bob: string
  const count = async (table: string, profileIds: string[]) =>
    (
      await f.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM ${table} WHERE profile_id = ANY($1::uuid[])`,
        [profileIds],
      )
    )[0]?.n

  beforeAll(async () => {
    f = await adminFixture(driver)
    ann = await seedProfile(f.db, {
      userId: 'ann-1',
      anonymousIds: ['anon-a'],
      traits: { email: ' Ann@Example.org ', name: 'Ann' },
      counters: { 'Post Created': 2 },
      groups: { club: { name: 'Club' } },
    })
    annAnon = await seedProfile(f.db, {
      anonymousIds: ['anon-b'],
      mergedInto: ann,
      counters: { 'Page Viewed': 1 },
    })
    bob = await seedProfile(f.db, {
      userId: 'bob',
      traits: { email: 'bob@example.org' },
      counters: { 'Post Created': 1 },
      groups: { club: { name: 'Club' } },
    })
    await seedEvents(f.db, [
      { messageId: 'a1', at: '2026-01-05T10:00:00Z', profileId: ann, userId: 'ann-1' },
      { messageId: 'a2', at: '2026-01-05T11:00:00Z', profileId: annAnon, anonymousId: 'anon-b' },
      // Not processed yet: found by her anonymousId, not by a profile id.
      { messageId: 'a3', at: '2026-01-05T12:00:00Z', anonymousId: 'anon-a' },
      { messageId: 'b1', at: '2026-01-05T10:00:00Z', profileId: bob, userId: 'bob' },
    ])
    await insertMembers(
      f.db,
      'default',
      [ann, bob].map((profileId) => ({ profileId, segmentId: 'club-members' })),
      new Date('2026-01-05T10:00:00Z'),
    )
    // Community state: ann and bob both climbed to prospect; ann earned points, posted twice.
    const writes = newRollupWrites()
    for (const p of [ann, bob])
      await saveStageOutcome(f.db, 'default', p, moveStage(stages, null, 'prospect', at, 'test'), writes)
    await saveScore(f.db, 'default', ann, { value: 12, at }, 30 * 86_400_000)
    writes.activity.push({ workspaceId: 'default', profileId: ann, at })
    gatherContent(writes, 'default', ann, 2)
    await writeRollups(f.db, writes)
  })
  const stages = compileStages(DEFAULT_STAGE_CONFIG)
  const at = new Date('2026-01-05T10:00:00Z')
  const entered = async () =>
    (
      await stageConversion(
        f.db,
        'default',
        stages,
        new Date('2026-01-01T00:00:00Z'),
        new Date('2026-02-01T00:00:00Z'),
      )
    )
      .slice(0, 2)
      .map((r) => r.entered)
  afterAll(() => f.close())

  it('erases the person, the profiles merged into her and all their data, and says how much', async () => {
    expect(await entered()).toEqual([2, 2])
    const res = await f.app.inject({ method: 'DELETE', url: '/api/v1/profiles/anon-b', headers: f.auth })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toEqual({
      profileId: ann,
      erased: {
        events: 3,
        identities: 3,
        counters: 2,
        groupMemberships: 1,
        segmentMemberships: 1,
        // 2 history rows, her stage, score, 2 first entries, 1 active week, her content count.
        community: 8,
        profiles: 2,
      },
      suppressions: 4,
    })
    const family = [ann, annAnon]
    for (const t of [
      'profiles',
      'profile_identities',
      'profile_event_counters',
      'profile_groups',
      'segment_members',
      'profile_stage_history',
      'profile_stages',
      'profile_scores',
      'profile_stage_firsts',
      'profile_activity_weeks',
      'profile_content_counts',
    ])
      expect([t, await count(t, family)]).toEqual([t, 0])
    // The reports no longer count her: only bob entered visitor and prospect.
    expect(await entered()).toEqual([1, 1])
    const cohorts = await f.db.query<{ n: number }>(
      `SELECT coalesce(sum(members), 0)::int AS n FROM stage_cohorts WHERE stage = 'prospect'`,
    )
    expect(cohorts[0]?.n).toBe(1)
    expect(await count('segment_members', [bob])).toBe(1)
    const events = await f.db.query<{ message_id: string }>('SELECT message_id FROM events ORDER BY seq')
    expect(events.map((e) => e.message_id)).toEqual(['b1'])
    const gone = await f.app.inject({ method: 'GET', url: '/api/v1/profiles/ann-1', headers: f.auth })
    expect(gone.statusCode).toBe(404)
    const again = await f.app.inject({ method: 'DELETE', url: '/api/v1/profiles/ann-1', headers: f.auth })
    expect(again.statusCode).toBe(404)
  })

  it('keeps hashes of her identifiers as suppressions, not the identifiers themselves', async () => {
    const rows = await f.db.query<{ kind: string; value_hash: string; reason: string }>(
      'SELECT kind, value_hash, reason FROM suppressions ORDER BY kind, value_hash',
    )
    const expected = [
      ['user_id', suppressionHash('user_id', 'ann-1')],
      ['anonymous_id', suppressionHash('anonymous_id', 'anon-a')],
      ['anonymous_id', suppressionHash('anonymous_id', 'anon-b')],
      ['email', suppressionHash('email', 'ann@example.org')],
    ]
    expect(rows.map((r) => [r.kind, r.value_hash]).sort()).toEqual(expected.sort())
    expect(rows.every((r) => r.reason === 'erased')).toBe(true)
    expect(JSON.stringify(rows)).not.toMatch(/ann/i)
  })

  it('leaves other people untouched', async () => {
    const res = await f.app.inject({ method: 'GET', url: '/api/v1/profiles/bob', headers: f.auth })
    expect(res.json()).toMatchObject({
      id: bob,
      counters: [{ event: 'Post Created', count: 1 }],
      groups: [{ groupId: 'club', traits: { name: 'Club' } }],
    })
    const timeline = await f.app.inject({
      method: 'GET',
      url: '/api/v1/profiles/bob/events',
      headers: f.auth,
    })
    expect(timeline.json().items.map((e: { messageId: string }) => e.messageId)).toEqual(['b1'])
    const groups = await f.db.query('SELECT group_id FROM groups')
    expect(groups).toEqual([{ group_id: 'club' }])
  })
})
