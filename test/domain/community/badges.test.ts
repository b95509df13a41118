import { describe, expect, it } from 'vitest'
import { FakeClock } from '../../../src/domain/clock.ts'
import { backfill } from '../../../src/domain/community/badge-backfill.ts'
import { type BadgeRule, validateBadgeRules } from '../../../src/domain/community/badge-rules.ts'
import {
  awardByHand,
  evaluateBadgeRules,
  type HeldBadge,
  recordAwards,
  revokeBadge,
} from '../../../src/domain/community/badges.ts'
import { compileScore } from '../../../src/domain/community/score-config.ts'
import { DAY } from '../../../src/domain/conditions/duration.ts'
import { event, makeCtx, type PastEvent } from '../../helpers/conditions.ts'

const STAGES = ['visitor', 'prospect', 'member', 'active_member', 'ambassador', 'evangelist']
const rules: BadgeRule[] = [
  { id: 'first_event', name: 'First event', when: { type: 'event', event: 'Event Attended' } },
  {
    id: 'photographer',
    name: 'Photographer',
    repeatable: true,
    when: {
      type: 'event',
      event: 'Topic Created',
      where: [{ path: 'properties.forum', op: 'eq', value: 'photos' }],
    },
  },
  {
    id: 'regular',
    name: 'Regular',
    repeatable: true,
    when: { type: 'count', event: 'Event Attended', count: 3 },
  },
  { id: 'engaged', name: 'Engaged', when: { type: 'score', min: 50 } },
  { id: 'insider', name: 'Insider', when: { type: 'stage', stage: 'active_member' } },
  {
    id: 'collector',
    name: 'Collector',
    when: {
      type: 'condition',
      condition: {
        type: 'all',
        conditions: [
          { type: 'badge', badge: 'first_event', has: true },
          { type: 'badge', badge: 'engaged', has: true },
        ],
      },
    },
  },
]
const withStages = (c: ReturnType<typeof makeCtx>) => ({ ...c, stages: STAGES })

describe('awarding badges', () => {
  it('awards on the event, on every Nth event, on score and stage, and chains conditions in one pass', () => {
    const clock = new FakeClock('2026-02-01T18:00:00Z')
    const now = clock.now()
    const history: PastEvent[] = [1, 2, 3].map((d) => ({
      name: 'Event Attended',
      timestamp: new Date(now.getTime() - d),
    }))
    const ctx = withStages(
      makeCtx({ now, history, score: 60, stage: 'active_member', event: event('Event Attended', now) }),
    )
    const awards = evaluateBadgeRules(rules, ctx, new Map())
    expect(awards.map((a) => [a.properties.badge, a.properties.occurrence])).toEqual([
      ['first_event', 1],
      ['regular', 1],
      ['engaged', 1],
      ['insider', 1],
      ['collector', 1],
    ])
    expect(awards[0]).toEqual({
      name: 'Badge Awarded',
      timestamp: now,
      properties: {
        badge: 'first_event',
        badge_name: 'First event',
        occurrence: 1,
        rule: 'event',
        backfilled: false,
      },
    })
  })

  it('awards a badge once unless repeatable, and never gives back a revoked one', () => {
    const now = new Date('2026-02-01T18:00:00Z')
    const held = new Map<string, HeldBadge>([
      [
        'first_event',
        { badge: 'first_event', count: 1, firstAwardedAt: now, lastAwardedAt: now, revokedAt: null },
      ],
      [
        'photographer',
        { badge: 'photographer', count: 2, firstAwardedAt: now, lastAwardedAt: now, revokedAt: null },
      ],
      ['engaged', { badge: 'engaged', count: 1, firstAwardedAt: now, lastAwardedAt: now, revokedAt: now }],
    ])
    const ctx = withStages(
      makeCtx({ now, score: 90, event: event('Topic Created', now, { properties: { forum: 'photos' } }) }),
    )
    const awards = evaluateBadgeRules(rules, ctx, held)
    expect(awards.map((a) => [a.properties.badge, a.properties.occurrence])).toEqual([['photographer', 3]])
    // A topic in another forum earns nothing.
    const other = withStages(
      makeCtx({ now, event: event('Topic Created', now, { properties: { forum: 'help' } }) }),
    )
    expect(evaluateBadgeRules(rules, other, held)).toEqual([])
  })

  it('revokes, and a manual award brings the badge back from its first occurrence', () => {
    const t = new Date('2026-02-01T00:00:00Z')
    const first = rules[0]!
    const held = recordAwards(undefined, [evaluateOnce(first, t)])!
    const revoked = revokeBadge(held, t, 'admin:ann', 'awarded by mistake')
    expect(revoked?.event).toEqual({
      name: 'Badge Revoked',
      timestamp: t,
      properties: { badge: 'first_event', by: 'admin:ann', reason: 'awarded by mistake' },
    })
    expect(revokeBadge(revoked!.held, t, 'admin:ann')).toBeNull()
    const back = awardByHand(first, revoked!.held, t, 'admin:bob')
    expect(back?.properties).toMatchObject({
      badge: 'first_event',
      occurrence: 1,
      rule: 'manual',
      by: 'admin:bob',
    })
    expect(recordAwards(revoked!.held, [back!])).toMatchObject({ count: 1, revokedAt: null })
  })
})

function evaluateOnce(rule: BadgeRule, at: Date) {
  const ctx = withStages(makeCtx({ now: at, event: event('Event Attended', at) }))
  const [a] = evaluateBadgeRules([rule], ctx, new Map())
  return a!
}

describe('backfill over existing history', () => {
  const t0 = Date.parse('2026-01-01T00:00:00Z')
  const day = (d: number) => new Date(t0 + d * DAY)
  const past = [
    event('Event Attended', day(10)),
    event('Topic Created', day(1), { properties: { forum: 'photos' } }),
    event('Event Attended', day(3)),
    event('Topic Created', day(2), { properties: { forum: 'help' } }),
    event('Event Attended', day(20)),
    event('Event Attended', day(21)),
    event('Event Attended', day(30)),
    event('Event Attended', day(31)),
    event('Topic Created', day(40), { properties: { forum: 'photos' } }),
  ]
  const ctx = withStages(makeCtx({ now: day(60), stage: 'active_member' }))
  const input = { events: past, ctx }
  const byId = (id: string) => rules.find((r) => r.id === id)!
  const when = (awards: { timestamp: Date; properties: { occurrence: number } }[]) =>
    awards.map((a) => [a.timestamp.toISOString().slice(0, 10), a.properties.occurrence])

  it('finds when a badge would have been awarded, in time order', () => {
    expect(when(backfill(byId('first_event'), input))).toEqual([['2026-01-04', 1]])
    // Event Attended on days 3, 10, 20, 21, 30, 31: the 3rd (day 20) and 6th (day 31).
    expect(when(backfill(byId('regular'), input))).toEqual([
      ['2026-01-21', 1],
      ['2026-02-01', 2],
    ])
    expect(when(backfill(byId('photographer'), input))).toEqual([
      ['2026-01-02', 1],
      ['2026-02-10', 2],
    ])
    expect(backfill(byId('regular'), input).every((a) => a.properties.backfilled)).toBe(true)
  })

  it('replays the score with decay for a score badge', () => {
    // Half-life 10d, Event Attended 20 points, min 50:
    // day 3: 20; day 10: 20·2^-0.7 + 20 = 32.31; day 20: 32.31·2^-1 + 20 = 36.16;
    // day 21: 36.16·2^-0.1 + 20 = 53.74 ≥ 50 → awarded on day 21.
    const score = compileScore({ half_life: '10d', points: { 'Event Attended': 20 }, thresholds: [] })
    expect(when(backfill(byId('engaged'), { ...input, score }))).toEqual([['2026-01-22', 1]])
  })

  it('uses the stage history for a stage badge, accepting a later stage', () => {
    const stageHistory = [
      { stage: 'visitor', at: day(0) },
      { stage: 'member', at: day(5) },
      { stage: 'ambassador', at: day(9) },
      { stage: 'active_member', at: day(30) },
    ]
    expect(when(backfill(byId('insider'), { ...input, stageHistory }))).toEqual([['2026-01-10', 1]])
  })

  it('continues a repeatable badge after the awards already held, and skips held or revoked ones', () => {
    const h: HeldBadge = {
      badge: 'regular',
      count: 1,
      firstAwardedAt: day(20),
      lastAwardedAt: day(20),
      revokedAt: null,
    }
    expect(when(backfill(byId('regular'), { ...input, held: h }))).toEqual([['2026-02-01', 2]])
    const f: HeldBadge = { ...h, badge: 'first_event' }
    expect(backfill(byId('first_event'), { ...input, held: f })).toEqual([])
    expect(backfill(byId('regular'), { ...input, held: { ...h, revokedAt: day(25) } })).toEqual([])
  })
})

describe('badge rule validation', () => {
  it('rejects rules that could never fire, with the path of each problem', () => {
    const r = validateBadgeRules(
      [
        { id: 'zero', name: 'Zero', when: { type: 'count', event: 'Post Created', count: 0 } },
        { id: 'typo', name: 'Typo', when: { type: 'event', event: 'Event Atended' } },
        { id: 'huge', name: 'Huge', when: { type: 'score', min: 5000 } },
        { id: 'ghost', name: 'Ghost', when: { type: 'stage', stage: 'legend' } },
        {
          id: 'self',
          name: 'Self',
          when: { type: 'condition', condition: { type: 'badge', badge: 'self', has: true } },
        },
        { id: 'typo', name: 'Typo again', when: { type: 'event', event: 'Post Created' } },
      ],
      { events: ['Post Created', 'Event Attended'], stages: STAGES, maxScore: 1000 },
    )
    expect(r.ok ? [] : r.issues).toEqual([
      {
        path: '[0].when.count',
        message: 'count must be at least 1: a badge for 0 events would go to everyone, below 0 to no one',
      },
    ])
    const r2 = validateBadgeRules(
      [
        { id: 'typo', name: 'Typo', when: { type: 'event', event: 'Event Atended' } },
        { id: 'huge', name: 'Huge', when: { type: 'score', min: 5000 } },
        { id: 'ghost', name: 'Ghost', when: { type: 'stage', stage: 'legend' } },
        {
          id: 'self',
          name: 'Self',
          when: { type: 'condition', condition: { type: 'badge', badge: 'self', has: true } },
        },
        { id: 'typo', name: 'Typo again', when: { type: 'event', event: 'Post Created' } },
      ],
      { events: ['Post Created', 'Event Attended'], stages: STAGES, maxScore: 1000 },
    )
    expect(r2.ok ? [] : r2.issues).toEqual([
      { path: '[4].id', message: 'duplicate badge id "typo" (also [0])' },
      { path: '[0].when.event', message: 'unknown event "Event Atended": this badge could never be awarded' },
      {
        path: '[1].when.min',
        message: 'min 5000 is above the highest possible score (1000): this badge could never be awarded',
      },
      { path: '[2].when.stage', message: 'unknown stage "legend": this badge could never be awarded' },
      { path: '[3].when.condition.badge', message: 'badge "self" cannot depend on itself' },
    ])
  })

  it('rejects a repeatable badge whose rule stays true, and a negative count', () => {
    const r = validateBadgeRules([
      { id: 'top', name: 'Top', repeatable: true, when: { type: 'score', min: 10 } },
      { id: 'neg', name: 'Neg', when: { type: 'count', event: 'Post Created', count: -2 } },
    ])
    expect(r.ok ? [] : r.issues.map((i) => [i.path, i.message])).toEqual([
      [
        '[0].repeatable',
        'a score badge cannot be repeatable: its rule stays true and would award on every event',
      ],
      [
        '[1].when.count',
        'count must be at least 1: a badge for 0 events would go to everyone, below 0 to no one',
      ],
    ])
  })
})
