// When a condition changes by time alone: the runtime sets a timer at nextRecheckAt.
// Each case checks the value is steady up to that time and flips exactly at it.
import { describe, expect, it } from 'vitest'
import { FakeClock } from '../../../src/domain/clock.ts'
import { DAY } from '../../../src/domain/conditions/duration.ts'
import { evaluate } from '../../../src/domain/conditions/evaluate.ts'
import { nextRecheckAt, recheckQueries } from '../../../src/domain/conditions/recheck.ts'
import type {
  Condition,
  ConditionContext,
  EventFacts,
  ProfileFacts,
} from '../../../src/domain/conditions/types.ts'
import { context, event, profile, STAGES } from './facts.ts'

const start = '2026-01-05T09:00:00Z'

function ctxAt(
  t: Date | string,
  over: { profile?: Partial<ProfileFacts>; history?: EventFacts[] } = {},
): ConditionContext {
  return context(new FakeClock(t), over)
}

/** The recheck time, after asserting the value holds until then and flips at it. */
function flipAt(cond: Condition, over: Parameters<typeof ctxAt>[1] = {}): string | null {
  const ctx = ctxAt(start, over)
  const t = nextRecheckAt(cond, ctx)
  if (t === null) return null
  const before = evaluate(cond, ctx)
  expect(evaluate(cond, ctxAt(new Date(t.getTime() - 1), over))).toBe(before)
  expect(evaluate(cond, ctxAt(t, over))).toBe(!before)
  return t.toISOString()
}

const uploads = (...isoTimes: string[]) => isoTimes.map((t) => event('Contacts Uploaded', t))

describe('performed within a window', () => {
  const notUploaded: Condition = { type: 'performed', event: 'Contacts Uploaded', within: '3d', max: 0 }

  it('"not performed within 3d" turns true 3 days and 1 ms after the last upload', () => {
    expect(flipAt(notUploaded, { history: uploads('2026-01-05T08:00:00Z', '2026-01-03T08:00:00Z') })).toBe(
      '2026-01-08T08:00:00.001Z',
    )
  })

  it('nothing to wait for when nothing is in the window', () => {
    expect(flipAt(notUploaded, { history: uploads('2026-01-01T08:00:00Z') })).toBeNull()
  })

  it('"at least 2 within 1d" turns false when the second newest leaves', () => {
    const cond: Condition = { type: 'performed', event: 'Contacts Uploaded', within: '1d', min: 2 }
    const history = uploads('2026-01-05T08:00:00Z', '2026-01-05T07:00:00Z', '2026-01-05T04:00:00Z')
    expect(flipAt(cond, { history })).toBe('2026-01-06T07:00:00.001Z')
  })

  it('"at most 1 within 1d" turns true when the second newest leaves', () => {
    const cond: Condition = { type: 'performed', event: 'Contacts Uploaded', within: '1d', max: 1 }
    const history = uploads('2026-01-05T08:00:00Z', '2026-01-05T07:00:00Z', '2026-01-05T04:00:00Z')
    expect(flipAt(cond, { history })).toBe('2026-01-06T07:00:00.001Z')
  })

  it('an event exactly at the window start leaves 1 ms later', () => {
    expect(flipAt(notUploaded, { history: uploads('2026-01-02T09:00:00Z') })).toBe('2026-01-05T09:00:00.001Z')
  })

  it('a count already under min, or unbounded bounds, never changes by time alone', () => {
    const history = uploads('2026-01-05T08:00:00Z')
    expect(
      flipAt({ type: 'performed', event: 'Contacts Uploaded', within: '1d', min: 2 }, { history }),
    ).toBeNull()
    expect(
      flipAt({ type: 'performed', event: 'Contacts Uploaded', within: '1d', min: 0 }, { history }),
    ).toBeNull()
  })

  it('windows over all time or between dates do not slide', () => {
    const history = uploads('2026-01-05T08:00:00Z')
    expect(flipAt({ type: 'performed', event: 'Contacts Uploaded' }, { history })).toBeNull()
    const between: Condition = {
      type: 'performed',
      event: 'Contacts Uploaded',
      between: { from: '2026-01-01', to: '2026-01-06' },
    }
    expect(flipAt(between, { history })).toBeNull()
  })

  it('needs event times: a history without them is a bug in the caller', () => {
    const ctx: ConditionContext = { ...ctxAt(start), history: { count: () => 1 } }
    expect(() => nextRecheckAt(notUploaded, ctx)).toThrow(/needs event times/)
    const times = { times: () => [new Date('2026-01-05T08:00:00Z')] }
    expect(nextRecheckAt(notUploaded, ctx, { times })).toEqual(new Date('2026-01-08T08:00:00.001Z'))
  })

  it('recheckQueries lists the times to prefetch and how many', () => {
    const now = new Date(start)
    const cond: Condition = {
      type: 'all',
      conditions: [
        notUploaded,
        { type: 'performed', event: 'Post Created', within: '7d', min: 3 },
        { type: 'performed', event: 'Comment Added', within: '7d', min: 1, max: 4 },
        { type: 'performed', event: 'Signed Up' },
        { type: 'performed', event: 'Liked', within: '1d', min: 0 },
      ],
    }
    expect(recheckQueries(cond, now).map((q) => [q.query.event, q.limit])).toEqual([
      ['Contacts Uploaded', 1],
      ['Post Created', 3],
      ['Comment Added', 5],
    ])
  })
})

describe('date traits and first/last seen', () => {
  it('within_next: enters the window D before the date, leaves 1 ms after it', () => {
    const cond: Condition = { type: 'trait', path: 'renewal_at', op: 'within_next', value: '7d' }
    expect(flipAt(cond, { profile: { traits: { renewal_at: '2026-01-20T00:00:00Z' } } })).toBe(
      '2026-01-13T00:00:00.000Z',
    )
    expect(flipAt(cond, { profile: { traits: { renewal_at: '2026-01-08T00:00:00Z' } } })).toBe(
      '2026-01-08T00:00:00.001Z',
    )
    expect(flipAt(cond, { profile: { traits: { renewal_at: '2026-01-01T00:00:00Z' } } })).toBeNull()
  })

  it('within_last: leaves the window D and 1 ms after the date, enters when the date comes', () => {
    const cond: Condition = { type: 'trait', path: 'signed_up_at', op: 'within_last', value: '3d' }
    expect(flipAt(cond, { profile: { traits: { signed_up_at: '2026-01-04T09:00:00Z' } } })).toBe(
      '2026-01-07T09:00:00.001Z',
    )
    expect(flipAt(cond, { profile: { traits: { signed_up_at: '2026-01-06T00:00:00Z' } } })).toBe(
      '2026-01-06T00:00:00.000Z',
    )
    expect(flipAt(cond, { profile: { traits: {} } })).toBeNull()
  })

  it('last_seen within_last 14d: "inactive for two weeks" is known in advance', () => {
    const inactive: Condition = {
      type: 'not',
      condition: { type: 'last_seen', op: 'within_last', value: '14d' },
    }
    expect(flipAt(inactive, { profile: { lastSeenAt: new Date('2026-01-04T12:00:00Z') } })).toBe(
      '2026-01-18T12:00:00.001Z',
    )
  })

  it('fixed comparisons (before, after, eq) never change by time alone', () => {
    const profileFacts = {
      traits: { renewal_at: '2026-01-20T00:00:00Z', plan: 'pro' },
      firstSeenAt: new Date(start),
    }
    const cond: Condition = {
      type: 'any',
      conditions: [
        { type: 'trait', path: 'renewal_at', op: 'before', value: '2026-02-01' },
        { type: 'trait', path: 'plan', op: 'eq', value: 'pro' },
        { type: 'first_seen', op: 'after', value: '2026-01-01' },
        { type: 'segment', segment: 'vip', member: true },
      ],
    }
    expect(flipAt(cond, { profile: profileFacts })).toBeNull()
  })
})

describe('decaying score', () => {
  const ctx = (score: number): ConditionContext => ({
    now: new Date(start),
    profile: profile({ score }),
    event: null,
    history: { count: () => 0 },
    stages: STAGES,
  })
  const at = (cond: Condition, score: number) =>
    nextRecheckAt(cond, ctx(score), { scoreHalfLifeMs: 10 * DAY })?.toISOString() ?? null

  it('crosses a threshold one half-life later when the threshold is half the score', () => {
    expect(at({ type: 'score', op: 'gte', value: 50 }, 100)).toBe('2026-01-15T09:00:00.001Z')
    expect(at({ type: 'score', op: 'gt', value: 50 }, 100)).toBe('2026-01-15T09:00:00.000Z')
    expect(at({ type: 'score', op: 'lt', value: 50 }, 100)).toBe('2026-01-15T09:00:00.001Z')
  })

  it('never crosses a threshold above the score or on the other side of zero', () => {
    expect(at({ type: 'score', op: 'gte', value: 150 }, 100)).toBeNull()
    expect(at({ type: 'score', op: 'gte', value: -5 }, 100)).toBeNull()
    expect(at({ type: 'score', op: 'gte', value: 5 }, 0)).toBeNull()
  })

  it('a negative score rises towards zero', () => {
    expect(at({ type: 'score', op: 'gt', value: -50 }, -100)).toBe('2026-01-15T09:00:00.001Z')
  })

  it('is not scheduled without a half-life', () => {
    expect(nextRecheckAt({ type: 'score', op: 'gte', value: 50 }, ctx(100))).toBeNull()
  })
})

describe('combinations', () => {
  it('returns the earliest leaf change', () => {
    const cond: Condition = {
      type: 'all',
      conditions: [
        { type: 'performed', event: 'Contacts Uploaded', within: '3d', max: 0 },
        { type: 'not', condition: { type: 'last_seen', op: 'within_last', value: '1d' } },
      ],
    }
    const over = {
      history: uploads('2026-01-05T08:00:00Z'),
      profile: { lastSeenAt: new Date('2026-01-05T08:00:00Z') },
    }
    expect(nextRecheckAt(cond, ctxAt(start, over))?.toISOString()).toBe('2026-01-06T08:00:00.001Z')
  })

  it('is null for conditions time cannot change', () => {
    expect(nextRecheckAt({ type: 'all', conditions: [] }, ctxAt(start))).toBeNull()
    expect(nextRecheckAt({ type: 'trait', path: 'plan', op: 'eq', value: 'pro' }, ctxAt(start))).toBeNull()
  })

  it('is always after now', () => {
    const cond: Condition = { type: 'trait', path: 'd', op: 'within_next', value: '1h' }
    const t = nextRecheckAt(cond, ctxAt(start, { profile: { traits: { d: '2026-01-05T10:00:00Z' } } }))
    expect(t?.getTime()).toBeGreaterThan(new Date(start).getTime())
    expect(t?.toISOString()).toBe('2026-01-05T10:00:00.001Z')
  })
})
