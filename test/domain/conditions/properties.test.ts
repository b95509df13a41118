// Properties that must hold for any condition and any data, checked on generated cases.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { describeCondition } from '../../../src/domain/conditions/describe.ts'
import { evaluate } from '../../../src/domain/conditions/evaluate.ts'
import { explain } from '../../../src/domain/conditions/explain.ts'
import { memoryHistory } from '../../../src/domain/conditions/history.ts'
import { nextRecheckAt } from '../../../src/domain/conditions/recheck.ts'
import { COMPARE_OPS, ConditionSchema } from '../../../src/domain/conditions/schema.ts'
import type {
  Condition,
  ConditionContext,
  EventFacts,
  HistoryQuery,
} from '../../../src/domain/conditions/types.ts'
import { profile, STAGES } from './facts.ts'

const NOW = Date.UTC(2026, 0, 5, 9)
const HOUR = 3_600_000
const names = fc.constantFrom('Signed Up', 'Post Created', 'Contacts Uploaded')
const keys = fc.constantFrom(
  'plan',
  'age',
  'address',
  'address.city',
  'tags',
  'renewal_at',
  'missing',
  'constructor',
)
const durations = fc.oneof(
  fc.constantFrom('1h', '3d', '1w', '1d12h', '0m', 'bad', ''),
  fc.integer({ min: -5, max: 10 * HOUR }),
)
const dates = fc.integer({ min: NOW - 30 * 24 * HOUR, max: NOW + 30 * 24 * HOUR }).map((t) => new Date(t))
const anyValue = fc.oneof(
  fc.anything(),
  fc.constantFrom('pro', '42', 'true', '2026-01-04', '2026-01-05T10:00:00+02:00', 'not a date'),
  dates,
  durations,
)

const leaf: fc.Arbitrary<Condition> = fc.oneof(
  fc.record({
    type: fc.constant('trait' as const),
    path: keys,
    op: fc.constantFrom(...COMPARE_OPS),
    value: anyValue,
  }),
  fc.record({
    type: fc.constant('event' as const),
    path: fc.constantFrom(
      'name',
      'type',
      'timestamp',
      'properties.forum',
      'context.locale',
      'nope',
      'properties',
    ),
    op: fc.constantFrom(...COMPARE_OPS),
    value: anyValue,
  }),
  fc.record(
    {
      type: fc.constant('performed' as const),
      event: names,
      within: durations.map(String),
      min: fc.nat(3),
      max: fc.nat(3),
      where: fc.constant([{ path: 'properties.forum', op: 'eq' as const, value: 'a' }]),
    },
    { requiredKeys: ['type', 'event'] },
  ),
  fc.record({
    type: fc.constantFrom('first_seen' as const, 'last_seen' as const),
    op: fc.constantFrom(...COMPARE_OPS),
    value: anyValue,
  }),
  fc.record({
    type: fc.constant('segment' as const),
    segment: fc.constantFrom('vip', 'new'),
    member: fc.boolean(),
  }),
  fc.record({
    type: fc.constant('badge' as const),
    badge: fc.constantFrom('helper', 'x'),
    has: fc.boolean(),
  }),
  fc.record({
    type: fc.constant('stage' as const),
    op: fc.constantFrom('eq', 'ne', 'gte', 'lte'),
    stage: fc.constantFrom(...STAGES, 'ghost'),
  }),
  fc.record({
    type: fc.constant('score' as const),
    op: fc.constantFrom('gt', 'gte', 'lt', 'lte'),
    value: fc.double(),
  }),
)

const { condition } = fc.letrec<{ condition: Condition }>((tie) => ({
  condition: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.record({
      type: fc.constantFrom('all' as const, 'any' as const),
      conditions: fc.array(tie('condition'), { maxLength: 3 }),
    }),
    fc.record({ type: fc.constant('not' as const), condition: tie('condition') }),
  ),
}))

const pastEvent: fc.Arbitrary<EventFacts> = fc.record({
  type: fc.constant('track'),
  name: names,
  timestamp: fc.integer({ min: NOW - 10 * 24 * HOUR, max: NOW + HOUR }).map((t) => new Date(t)),
  properties: fc.record({ forum: fc.constantFrom('a', 'b') }),
  traits: fc.constant({}),
  context: fc.constant({}),
})

const contexts: fc.Arbitrary<ConditionContext> = fc.record({
  now: fc.constant(new Date(NOW)),
  profile: fc
    .record({
      traits: fc.dictionary(keys, anyValue),
      firstSeenAt: fc.option(dates),
      lastSeenAt: fc.option(dates),
      segments: fc.subarray(['vip', 'new']).map((s) => new Set(s)),
      badges: fc.subarray(['helper']).map((s) => new Set(s)),
      stage: fc.option(fc.constantFrom(...STAGES, 'ghost')),
      score: fc.double(),
    })
    .map((p) => profile(p)),
  event: fc.option(
    pastEvent.map((e) => ({
      ...e,
      properties: { forum: e.properties.forum, nested: { x: [1] } },
      context: { locale: 'fr' },
    })),
  ),
  history: fc.array(pastEvent, { maxLength: 8 }).map(memoryHistory),
  stages: fc.constant(STAGES),
})

describe('evaluate', () => {
  it('never throws, whatever the condition and data', () => {
    fc.assert(
      fc.property(condition, contexts, (c, ctx) => {
        expect(typeof evaluate(c, ctx)).toBe('boolean')
      }),
    )
  })

  it('not(not(c)) is c', () => {
    fc.assert(
      fc.property(condition, contexts, (c, ctx) => {
        expect(evaluate({ type: 'not', condition: { type: 'not', condition: c } }, ctx)).toBe(
          evaluate(c, ctx),
        )
      }),
    )
  })

  it('all([]) is true, any([]) is false, and one-element groups are their element', () => {
    fc.assert(
      fc.property(condition, contexts, (c, ctx) => {
        expect(evaluate({ type: 'all', conditions: [] }, ctx)).toBe(true)
        expect(evaluate({ type: 'any', conditions: [] }, ctx)).toBe(false)
        expect(evaluate({ type: 'all', conditions: [c] }, ctx)).toBe(evaluate(c, ctx))
        expect(evaluate({ type: 'any', conditions: [c] }, ctx)).toBe(evaluate(c, ctx))
      }),
    )
  })

  it('follows De Morgan: not(all(a, b)) is any(not a, not b)', () => {
    fc.assert(
      fc.property(condition, condition, contexts, (a, b, ctx) => {
        const left = evaluate({ type: 'not', condition: { type: 'all', conditions: [a, b] } }, ctx)
        const right = evaluate(
          {
            type: 'any',
            conditions: [
              { type: 'not', condition: a },
              { type: 'not', condition: b },
            ],
          },
          ctx,
        )
        expect(left).toBe(right)
      }),
    )
  })

  it('explain agrees with evaluate, and describing never throws', () => {
    fc.assert(
      fc.property(condition, contexts, (c, ctx) => {
        expect(explain(c, ctx).result).toBe(evaluate(c, ctx))
        expect(typeof describeCondition(c)).toBe('string')
      }),
    )
  })
})

describe('memoryHistory', () => {
  it('agrees with a naive count', () => {
    const query: fc.Arbitrary<HistoryQuery> = fc.record({
      event: names,
      where: fc.constantFrom([], [{ path: 'properties.forum', op: 'eq' as const, value: 'a' }]),
      from: fc.option(dates),
      to: fc.option(dates),
    })
    fc.assert(
      fc.property(fc.array(pastEvent, { maxLength: 12 }), query, (events, q) => {
        let naive = 0
        for (const e of events) {
          const t = e.timestamp.getTime()
          if (e.name !== q.event) continue
          if (q.from && t < q.from.getTime()) continue
          if (q.to && t > q.to.getTime()) continue
          if (q.where.length && e.properties['forum'] !== 'a') continue
          naive++
        }
        const h = memoryHistory(events)
        expect(h.count(q)).toBe(naive)
        const times = h.times(q, 100)
        expect(times).toHaveLength(naive)
        expect(times.map((d) => d.getTime())).toEqual(times.map((d) => d.getTime()).sort((a, b) => b - a))
      }),
    )
  })
})

describe('nextRecheckAt', () => {
  const timed: fc.Arbitrary<Condition> = fc.oneof(
    fc.tuple(fc.constantFrom('1h', '1d', '3d'), fc.option(fc.nat(3)), fc.option(fc.nat(3))).map(
      ([within, min, extra]): Condition => ({
        type: 'performed',
        event: 'Post Created',
        within,
        ...(min === null ? {} : { min }),
        ...(extra === null ? {} : { max: (min ?? 0) + extra }),
      }),
    ),
    fc.record({
      type: fc.constant('trait' as const),
      path: fc.constant('renewal_at'),
      op: fc.constantFrom('within_last' as const, 'within_next' as const),
      value: fc.constantFrom('1h', '2d'),
    }),
  )

  it('the value holds until the recheck time and changes at it (single time-based leaf)', () => {
    fc.assert(
      fc.property(
        timed,
        fc.array(
          pastEvent.map((e) => ({
            ...e,
            name: 'Post Created',
            timestamp: new Date(NOW - (e.timestamp.getTime() % (3 * 24 * HOUR))),
          })),
          { maxLength: 8 },
        ),
        dates,
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 5 }),
        (c, events, renewal, samples) => {
          const past = events.filter((e) => e.timestamp.getTime() <= NOW)
          const ctxAt = (t: number): ConditionContext => ({
            now: new Date(t),
            profile: profile({ traits: { renewal_at: renewal.toISOString() } }),
            event: null,
            history: memoryHistory(past),
            stages: STAGES,
          })
          const now = evaluate(c, ctxAt(NOW))
          const next = nextRecheckAt(c, ctxAt(NOW))
          const horizon = next ? next.getTime() : NOW + 40 * 24 * HOUR
          for (const s of samples) {
            const t = NOW + Math.floor(s * (horizon - NOW - 1))
            expect(evaluate(c, ctxAt(t))).toBe(now)
          }
          if (next) expect(evaluate(c, ctxAt(next.getTime()))).toBe(!now)
        },
      ),
    )
  })
})

describe('ConditionSchema', () => {
  it('reports issues for any input rather than throwing', () => {
    fc.assert(
      fc.property(fc.oneof(fc.anything(), condition), (input) => {
        expect(typeof ConditionSchema.safeParse(input).success).toBe('boolean')
      }),
    )
  })
})
