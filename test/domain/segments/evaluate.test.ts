// Evaluating a profile's segments: transitions in dependency order, and when time alone
// may next change each answer.
import { describe, expect, it } from 'vitest'
import { memoryHistory } from '../../../src/domain/conditions/history.ts'
import type { Condition, ProfileFacts } from '../../../src/domain/conditions/types.ts'
import { evaluateSegments, mayChangeWithTime } from '../../../src/domain/segments/evaluate.ts'
import type { Segment } from '../../../src/domain/segments/types.ts'
import { event, profile } from '../../helpers/conditions.ts'

const seg = (id: string, condition: Condition): Segment => ({ id, name: id, condition })
const now = new Date('2026-03-10T12:00:00Z')
const ann = (over: Partial<ProfileFacts> = {}) =>
  profile({ traits: { plan: 'pro' }, lastSeenAt: new Date('2026-03-01T12:00:00Z'), ...over })
const post = (at: string) => event('Post Created', at)

describe('evaluateSegments', () => {
  const pro = seg('pro', { type: 'trait', path: 'plan', op: 'eq', value: 'pro' })
  const engaged = seg('engaged', { type: 'performed', event: 'Post Created', within: '7d', min: 2 })
  const both = seg('engaged-pro', {
    type: 'all',
    conditions: [
      { type: 'segment', segment: 'pro', member: true },
      { type: 'segment', segment: 'engaged', member: true },
    ],
  })

  it('decides each segment on the memberships decided before it, and says when to look again', () => {
    const history = memoryHistory([post('2026-03-05T09:00:00Z'), post('2026-03-09T09:00:00Z')])
    const r = evaluateSegments([pro, engaged, both], {
      now,
      profile: ann({ segments: new Set(['stale']) }),
      history,
      stages: [],
    })
    expect(r.outcomes.map((o) => [o.segment.id, o.change, o.recheckAt?.toISOString() ?? null])).toEqual([
      ['pro', 'entered', null],
      // The older post leaves the 7-day window 1 ms after 7 days: engaged ends then.
      ['engaged', 'entered', '2026-03-12T09:00:00.001Z'],
      ['engaged-pro', 'entered', null],
    ])
    expect([...r.segments].sort()).toEqual(['engaged', 'engaged-pro', 'pro', 'stale'])
  })

  it('reports exits and no change', () => {
    const r = evaluateSegments([pro, engaged], {
      now,
      profile: ann({ traits: { plan: 'free' }, segments: new Set(['pro']) }),
      history: memoryHistory([]),
      stages: [],
    })
    expect(r.outcomes.map((o) => [o.segment.id, o.change])).toEqual([
      ['pro', 'exited'],
      ['engaged', null],
    ])
  })
})

describe('mayChangeWithTime', () => {
  it.each<[string, Condition, boolean]>([
    ['a trait equality', { type: 'trait', path: 'plan', op: 'eq', value: 'pro' }, false],
    ['a date trait window', { type: 'trait', path: 'renewal_at', op: 'within_next', value: '7d' }, true],
    ['inactivity', { type: 'not', condition: { type: 'last_seen', op: 'within_last', value: '30d' } }, true],
    ['a count ever', { type: 'performed', event: 'Post Created', min: 1 }, false],
    ['a count in a window', { type: 'performed', event: 'Post Created', within: '3d', max: 0 }, true],
    ['a decaying score', { type: 'score', op: 'gte', value: 50 }, true],
    ['a segment', { type: 'segment', segment: 'pro', member: true }, false],
  ])('%s', (_, cond, expected) => {
    expect(mayChangeWithTime(cond)).toBe(expected)
  })
})
