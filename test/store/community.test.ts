import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { recordAwards, revokeBadge } from '../../src/domain/community/badges.ts'
import { compileStages } from '../../src/domain/community/stage-config.ts'
import { DEFAULT_STAGE_CONFIG } from '../../src/domain/community/stage-defaults.ts'
import { moveStage } from '../../src/domain/community/stage-progress.ts'
import { DAY } from '../../src/domain/conditions/duration.ts'
import {
  loadBadges,
  loadScore,
  loadStageState,
  saveBadge,
  saveScore,
  saveStageOutcome,
} from '../../src/store/community.ts'
import {
  activeVsInactive,
  badgeReport,
  stageConversion,
  stageDistribution,
  stuckMembers,
  topByContent,
  topByScore,
  weeklyCohorts,
} from '../../src/store/community-reports.ts'
import { gatherContent, newRollupWrites, writeRollups } from '../../src/store/community-rollups.ts'
import { describeEachDriver, openTestDb, type TestDb } from '../helpers/db.ts'

const stages = compileStages(DEFAULT_STAGE_CONFIG)
const WS = 'ws_community'
const t0 = Date.parse('2026-01-05T00:00:00Z') // a Monday
const day = (d: number) => new Date(t0 + d * DAY)
const now = day(20)
const H = 7 * DAY
const [A, B, C, D] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()] as const

const award = (badge: string, at: Date, occurrence = 1) => ({
  name: 'Badge Awarded' as const,
  timestamp: at,
  properties: { badge, badge_name: badge, occurrence, rule: 'event' as const, backfilled: false },
})

describeEachDriver('community store and reports', (driver) => {
  let db: TestDb
  beforeAll(async () => {
    db = await openTestDb(driver)
    const writes = newRollupWrites()
    const move = async (p: string, target: string, at: Date) => {
      const out = moveStage(stages, await loadStageState(db, WS, p), target, at, 'admin:test')
      await saveStageOutcome(db, WS, p, out, writes)
      await writeRollups(db, writes)
    }
    // A: member on day 0, active on day 10. B: member on day 1. C: visitor on day 2.
    // D: member on day 7, active on day 11.
    await move(A, 'member', day(0))
    await move(B, 'member', day(1))
    await move(C, 'visitor', day(2))
    await move(D, 'member', day(7))
    await move(A, 'active_member', day(10))
    await move(D, 'active_member', day(11))
    await saveScore(db, WS, A, { value: 40, at: day(10) }, H)
    await saveScore(db, WS, B, { value: 10, at: day(19) }, H)
    await saveScore(db, WS, C, { value: 30, at: day(0) }, H)
    await saveBadge(db, WS, A, recordAwards(undefined, [award('first_event', day(3))])!)
    await saveBadge(
      db,
      WS,
      A,
      recordAwards(undefined, [award('regular', day(4)), award('regular', day(9), 2)])!,
    )
    await saveBadge(db, WS, B, recordAwards(undefined, [award('first_event', day(5))])!)
    const c = revokeBadge(recordAwards(undefined, [award('first_event', day(6))]), day(8), 'admin:ann')!
    await saveBadge(db, WS, C, c.held, 'admin:ann')
    // Content created, as the community hook counts it: A 3 topics and 2 posts, B 2 posts, D 1 topic.
    for (const [p, count] of [
      [A, 3],
      [A, 2],
      [B, 2],
      [D, 1],
    ] as const)
      gatherContent(writes, WS, p, count)
    await writeRollups(db, writes)
    const events: [string, string, Date][] = [
      [A, 'Post Created', day(2)],
      [A, 'Post Created', day(15)],
      [B, 'Post Created', day(2)],
      [D, 'Topic Created', day(12)],
    ]
    for (const [i, [p, name, at]] of events.entries()) {
      await db.query(
        `INSERT INTO events (workspace_id, message_id, type, name, partition, timestamp, received_at, payload, profile_id)
         VALUES ($1, $2, 'track', $3, 0, $4, $4, '{}', $5)`,
        [WS, `m${i}`, name, at.toISOString(), p],
      )
      // The community hook records the activity of events worth points.
      writes.activity.push({ workspaceId: WS, profileId: p, at })
      await writeRollups(db, writes)
    }
  })
  afterAll(async () => db.close())

  it('round-trips stage, score and badge state', async () => {
    expect(await loadStageState(db, WS, A)).toEqual({
      stage: 'active_member',
      enteredAt: day(10),
      demotionPendingSince: null,
      stuckNotifiedAt: null,
    })
    expect(await loadScore(db, WS, B)).toEqual({ value: 10, at: day(19) })
    expect((await loadBadges(db, WS, C)).get('first_event')?.revokedAt).toEqual(day(8))
  })

  it('reports the distribution now and at a past date, in funnel order', async () => {
    expect(await stageDistribution(db, WS, stages)).toEqual([
      { stage: 'visitor', members: 1 },
      { stage: 'prospect', members: 0 },
      { stage: 'member', members: 1 },
      { stage: 'active_member', members: 2 },
      { stage: 'ambassador', members: 0 },
      { stage: 'evangelist', members: 0 },
    ])
    // Day 5: A and B are members, C a visitor, D not seen yet.
    const past = await stageDistribution(db, WS, stages, day(5))
    expect(past.filter((r) => r.members > 0)).toEqual([
      { stage: 'visitor', members: 1 },
      { stage: 'member', members: 2 },
    ])
  })

  it('reports conversion and the median real stay before promotion', async () => {
    const conv = await stageConversion(db, WS, stages, day(0), day(30))
    const member = conv.find((r) => r.stage === 'member')!
    // Entered member: A, B, D; moved up: A (after 10 days), D (after 4 days): median 7 days.
    expect(member).toEqual({
      stage: 'member',
      entered: 3,
      promoted: 2,
      demoted: 0,
      conversion: 2 / 3,
      medianMsBeforePromotion: 7 * DAY,
    })
    // Visitors were moved on within the same evaluation: no real stay to measure.
    expect(conv[0]).toMatchObject({
      stage: 'visitor',
      entered: 4,
      promoted: 3,
      medianMsBeforePromotion: null,
    })
  })

  it('counts stuck members per stage', async () => {
    // B has been a member for 19 days (stuck after 14); C a visitor for 18 (30).
    const stuck = await stuckMembers(db, WS, stages, now)
    expect(stuck.filter((r) => r.stuck > 0)).toEqual([{ stage: 'member', stuck: 1 }])
  })

  it('ranks top contributors by decayed score, not by stored value', async () => {
    // Day 20, half-life 7d: A 40·2^(-10/7) = 14.86, B 10·2^(-1/7) = 9.06, C 30·2^(-20/7) = 4.14
    const top = await topByScore(db, WS, now, H)
    expect(top.map((t) => t.profileId)).toEqual([A, B, C])
    expect(top[0]!.score).toBeCloseTo(40 * 2 ** (-10 / 7), 9)
    expect(await topByContent(db, WS)).toEqual([
      { profileId: A, created: 5 },
      { profileId: B, created: 2 },
      { profileId: D, created: 1 },
    ])
  })

  it('splits members into active and inactive over the window', async () => {
    // Since day 13: A posted on day 15; B (day 2) and D (day 12) did not.
    expect(await activeVsInactive(db, WS, stages, 'member', now, 7 * DAY)).toEqual({ active: 1, inactive: 2 })
  })

  it('builds weekly cohorts by join week with retention', async () => {
    const cohorts = await weeklyCohorts(db, WS, 'member', day(0), day(21), 3)
    expect(cohorts).toEqual([
      { cohort: day(0), members: 2, retained: [2, 0, 1] },
      { cohort: day(7), members: 1, retained: [1, 0, 0] },
    ])
  })

  it('lists badges by holders, revoked ones excluded', async () => {
    expect(await badgeReport(db, WS)).toEqual([
      { badge: 'first_event', holders: 2, awards: 2 },
      { badge: 'regular', holders: 1, awards: 2 },
    ])
  })
})
