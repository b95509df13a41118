// Every condition type against a profile, an event and a history, on a fake clock.
import { describe, expect, it } from 'vitest'
import { FakeClock } from '../../../src/domain/clock.ts'
import { DAY, HOUR } from '../../../src/domain/conditions/duration.ts'
import { evaluate } from '../../../src/domain/conditions/evaluate.ts'
import type { CompareOp, Condition } from '../../../src/domain/conditions/types.ts'
import { at, context, event } from './facts.ts'

const clock = new FakeClock('2026-01-05T09:00:00Z')

describe('trait', () => {
  const ctx = context(clock, {
    profile: {
      traits: {
        plan: 'pro',
        seats: '12',
        address: { city: 'Lyon', zip: '69001' },
        'company.name': 'Acme',
        tags: ['beta', 'photo'],
        renewal_at: '2026-01-10T00:00:00Z',
        nothing: null,
      },
    },
  })
  const trait = (path: string, op: CompareOp, value?: unknown): Condition =>
    value === undefined ? { type: 'trait', path, op } : { type: 'trait', path, op, value }

  it.each([
    [trait('plan', 'eq', 'pro'), true],
    [trait('plan', 'eq', 'free'), false],
    [trait('seats', 'gte', 10), true],
    [trait('address.city', 'eq', 'Lyon'), true],
    [trait('address.zip', 'eq', 69001), true],
    [trait('address.country', 'exists'), false],
    [trait('address.city.name', 'exists'), false],
    [trait('company.name', 'eq', 'Acme'), true],
    [trait('tags', 'contains', 'photo'), true],
    [trait('tags.1', 'eq', 'photo'), true],
    [trait('renewal_at', 'within_next', '7d'), true],
    [trait('renewal_at', 'within_next', '4d'), false],
    [trait('nothing', 'exists'), false],
    [trait('nothing', 'not_exists'), true],
    [trait('missing', 'ne', 'pro'), true],
    [trait('missing', 'eq', 'pro'), false],
    [trait('constructor', 'exists'), false],
    [trait('plan.length', 'exists'), false],
  ])('%j is %s', (cond, expected) => {
    expect(evaluate(cond, ctx)).toBe(expected)
  })
})

describe('event', () => {
  const current = event('Post Created', clock.now(), {
    properties: { forum: 'photo-beginners', words: 120 },
    context: { locale: 'fr-FR' },
  })
  it.each([
    [{ type: 'event', path: 'name', op: 'eq', value: 'Post Created' }, true],
    [{ type: 'event', path: 'type', op: 'eq', value: 'track' }, true],
    [{ type: 'event', path: 'properties.forum', op: 'eq', value: 'photo-beginners' }, true],
    [{ type: 'event', path: 'properties.words', op: 'gt', value: 100 }, true],
    [{ type: 'event', path: 'context.locale', op: 'contains', value: 'fr' }, true],
    [{ type: 'event', path: 'timestamp', op: 'within_last', value: '1m' }, true],
    [{ type: 'event', path: 'properties.missing', op: 'exists' }, false],
    [{ type: 'event', path: 'forum', op: 'eq', value: 'photo-beginners' }, false],
    [{ type: 'event', path: 'name.x', op: 'exists' }, false],
  ] as Condition[][])('%j is %s', (cond, expected) => {
    expect(evaluate(cond as Condition, context(clock, { event: current }))).toBe(expected)
  })

  it('sees every field as missing when there is no current event (timers)', () => {
    const cond: Condition = { type: 'event', path: 'properties.forum', op: 'eq', value: 'photo-beginners' }
    expect(evaluate(cond, context(clock))).toBe(false)
    expect(evaluate({ type: 'event', path: 'name', op: 'not_exists' }, context(clock))).toBe(true)
  })
})

describe('performed', () => {
  const uploads = (...agoMs: number[]) => agoMs.map((ms) => event('Contacts Uploaded', at(clock, -ms)))
  const notWithin3d: Condition = { type: 'performed', event: 'Contacts Uploaded', within: '3d', max: 0 }

  it('"has not performed X within 3d" is true with no such event', () => {
    expect(evaluate(notWithin3d, context(clock))).toBe(true)
  })

  it('counts an event exactly 3 days ago as inside the window, and one a millisecond older as outside', () => {
    expect(evaluate(notWithin3d, context(clock, { history: uploads(3 * DAY) }))).toBe(false)
    expect(evaluate(notWithin3d, context(clock, { history: uploads(3 * DAY + 1) }))).toBe(true)
  })

  it('counts an event at this very moment (the event being processed is already in the log)', () => {
    expect(evaluate(notWithin3d, context(clock, { history: uploads(0) }))).toBe(false)
  })

  it('ignores events that carry a time after now', () => {
    expect(evaluate(notWithin3d, context(clock, { history: uploads(-1) }))).toBe(true)
  })

  it('ignores other event names, including other case', () => {
    const history = [event('contacts uploaded', clock.now()), event('Contacts Imported', clock.now())]
    expect(evaluate(notWithin3d, context(clock, { history }))).toBe(true)
  })

  it('defaults to "at least once" over all time', () => {
    const cond: Condition = { type: 'performed', event: 'Contacts Uploaded' }
    expect(evaluate(cond, context(clock))).toBe(false)
    expect(evaluate(cond, context(clock, { history: uploads(400 * DAY) }))).toBe(true)
  })

  it.each([
    [{ min: 3 }, 2, false],
    [{ min: 3 }, 3, true],
    [{ max: 2 }, 2, true],
    [{ max: 2 }, 3, false],
    [{ min: 2, max: 2 }, 2, true],
    [{ min: 2, max: 2 }, 1, false],
    [{ min: 2, max: 2 }, 3, false],
    [{ min: 0 }, 0, true],
    [{ min: 1, max: 3 }, 4, false],
  ])('bounds %j with %d events in the window is %s', (bounds, n, expected) => {
    const history = uploads(...Array.from({ length: n }, (_, i) => i * HOUR))
    const cond: Condition = { type: 'performed', event: 'Contacts Uploaded', within: '1d', ...bounds }
    expect(evaluate(cond, context(clock, { history }))).toBe(expected)
  })

  it('filters past events with where, using event paths', () => {
    const history = [
      event('Post Created', at(clock, -HOUR), { properties: { forum: 'photo-beginners' } }),
      event('Post Created', at(clock, -2 * HOUR), { properties: { forum: 'general' } }),
      event('Post Created', at(clock, -3 * HOUR), {
        properties: { forum: 'photo-beginners' },
        context: { locale: 'en' },
      }),
    ]
    const inForum = (extra: Partial<Extract<Condition, { type: 'performed' }>>): Condition => ({
      type: 'performed',
      event: 'Post Created',
      where: [{ path: 'properties.forum', op: 'eq', value: 'photo-beginners' }],
      ...extra,
    })
    expect(evaluate(inForum({ min: 2, max: 2 }), context(clock, { history }))).toBe(true)
    expect(
      evaluate(
        inForum({ where: [{ path: 'context.locale', op: 'eq', value: 'en' }], min: 1, max: 1 }),
        context(clock, { history }),
      ),
    ).toBe(true)
  })

  it('counts between two dates, both ends included', () => {
    const history = [
      event('Ticket Bought', '2026-01-01T00:00:00Z'),
      event('Ticket Bought', '2026-01-31T00:00:00Z'),
      event('Ticket Bought', '2026-01-31T00:00:00.001Z'),
      event('Ticket Bought', '2025-12-31T23:59:59.999Z'),
    ]
    const cond: Condition = {
      type: 'performed',
      event: 'Ticket Bought',
      between: { from: '2026-01-01', to: '2026-01-31' },
      min: 2,
      max: 2,
    }
    expect(evaluate(cond, context(clock, { history }))).toBe(true)
  })

  it('is false for a window it cannot read (unvalidated input), never an exception', () => {
    const ctx = context(clock)
    expect(evaluate({ type: 'performed', event: 'X', within: 'soon', max: 0 }, ctx)).toBe(false)
    expect(evaluate({ type: 'performed', event: 'X', between: { from: 'a', to: 'b' }, max: 0 }, ctx)).toBe(
      false,
    )
  })

  it('moves with the clock: true again once the last event leaves the window', () => {
    const c = new FakeClock('2026-01-05T09:00:00Z')
    const history = [event('Contacts Uploaded', '2026-01-05T08:00:00Z')]
    expect(evaluate(notWithin3d, context(c, { history }))).toBe(false)
    c.set('2026-01-08T08:00:00Z')
    expect(evaluate(notWithin3d, context(c, { history }))).toBe(false)
    c.advance(1)
    expect(evaluate(notWithin3d, context(c, { history }))).toBe(true)
  })
})

describe('first_seen / last_seen', () => {
  const ctx = context(clock, {
    profile: { firstSeenAt: new Date('2025-12-20T00:00:00Z'), lastSeenAt: new Date('2026-01-04T09:00:00Z') },
  })
  it.each([
    [{ type: 'first_seen', op: 'before', value: '2026-01-01' }, true],
    [{ type: 'first_seen', op: 'after', value: '2026-01-01' }, false],
    [{ type: 'first_seen', op: 'within_last', value: '30d' }, true],
    [{ type: 'first_seen', op: 'within_last', value: '7d' }, false],
    [{ type: 'last_seen', op: 'within_last', value: '1d' }, true],
    [{ type: 'last_seen', op: 'within_last', value: '23h' }, false],
    [{ type: 'last_seen', op: 'within_next', value: '1d' }, false],
  ] as Condition[][])('%j is %s', (cond, expected) => {
    expect(evaluate(cond as Condition, ctx)).toBe(expected)
  })

  it('is false for a profile never seen', () => {
    expect(evaluate({ type: 'last_seen', op: 'before', value: '2030-01-01' }, context(clock))).toBe(false)
    expect(evaluate({ type: 'last_seen', op: 'within_last', value: '30d' }, context(clock))).toBe(false)
  })
})

describe('segment, badge, stage, score', () => {
  const ctx = context(clock, {
    profile: { segments: new Set(['vip']), badges: new Set(['first-post']), stage: 'member', score: 42.5 },
  })
  it.each([
    [{ type: 'segment', segment: 'vip', member: true }, true],
    [{ type: 'segment', segment: 'vip', member: false }, false],
    [{ type: 'segment', segment: 'churn-risk', member: false }, true],
    [{ type: 'badge', badge: 'first-post', has: true }, true],
    [{ type: 'badge', badge: 'helper', has: true }, false],
    [{ type: 'badge', badge: 'helper', has: false }, true],
    [{ type: 'stage', op: 'eq', stage: 'member' }, true],
    [{ type: 'stage', op: 'ne', stage: 'member' }, false],
    [{ type: 'stage', op: 'gte', stage: 'prospect' }, true],
    [{ type: 'stage', op: 'gte', stage: 'member' }, true],
    [{ type: 'stage', op: 'gte', stage: 'active' }, false],
    [{ type: 'stage', op: 'lte', stage: 'member' }, true],
    [{ type: 'stage', op: 'lte', stage: 'prospect' }, false],
    [{ type: 'stage', op: 'gte', stage: 'unknown-stage' }, false],
    [{ type: 'score', op: 'gt', value: 42 }, true],
    [{ type: 'score', op: 'gte', value: 42.5 }, true],
    [{ type: 'score', op: 'lt', value: 42.5 }, false],
    [{ type: 'score', op: 'lte', value: 50 }, true],
  ] as Condition[][])('%j is %s', (cond, expected) => {
    expect(evaluate(cond as Condition, ctx)).toBe(expected)
  })

  it('a member without a stage is neither at least nor at most any stage, and not equal to one', () => {
    const none = context(clock)
    expect(evaluate({ type: 'stage', op: 'gte', stage: 'visitor' }, none)).toBe(false)
    expect(evaluate({ type: 'stage', op: 'lte', stage: 'evangelist' }, none)).toBe(false)
    expect(evaluate({ type: 'stage', op: 'eq', stage: 'visitor' }, none)).toBe(false)
    expect(evaluate({ type: 'stage', op: 'ne', stage: 'visitor' }, none)).toBe(true)
  })
})

describe('all / any / not', () => {
  const ctx = context(clock, { profile: { traits: { plan: 'pro', country: 'FR' } } })
  const T: Condition = { type: 'trait', path: 'plan', op: 'eq', value: 'pro' }
  const F: Condition = { type: 'trait', path: 'country', op: 'eq', value: 'DE' }

  it.each([
    [{ type: 'all', conditions: [] }, true],
    [{ type: 'any', conditions: [] }, false],
    [{ type: 'all', conditions: [T, T] }, true],
    [{ type: 'all', conditions: [T, F] }, false],
    [{ type: 'any', conditions: [F, T] }, true],
    [{ type: 'any', conditions: [F, F] }, false],
    [{ type: 'not', condition: T }, false],
    [{ type: 'not', condition: F }, true],
    [{ type: 'all', conditions: [T, { type: 'any', conditions: [F, { type: 'not', condition: F }] }] }, true],
    [
      {
        type: 'not',
        condition: {
          type: 'all',
          conditions: [T, { type: 'not', condition: { type: 'any', conditions: [F] } }],
        },
      },
      false,
    ],
  ] as Condition[][])('%j is %s', (cond, expected) => {
    expect(evaluate(cond as Condition, ctx)).toBe(expected)
  })

  it('combines kinds: signed up 3 days ago, no contacts uploaded, on a paid plan', () => {
    const c = new FakeClock('2026-01-08T09:00:00Z')
    const cond: Condition = {
      type: 'all',
      conditions: [
        { type: 'performed', event: 'Signed Up', min: 1 },
        { type: 'performed', event: 'Contacts Uploaded', within: '3d', max: 0 },
        { type: 'trait', path: 'plan', op: 'in', value: ['pro', 'team'] },
      ],
    }
    const history = [event('Signed Up', '2026-01-05T09:00:00Z')]
    expect(evaluate(cond, context(c, { profile: { traits: { plan: 'team' } }, history }))).toBe(true)
    const uploaded = [...history, event('Contacts Uploaded', '2026-01-06T10:00:00Z')]
    expect(evaluate(cond, context(c, { profile: { traits: { plan: 'team' } }, history: uploaded }))).toBe(
      false,
    )
    expect(evaluate(cond, context(c, { profile: { traits: { plan: 'free' } }, history }))).toBe(false)
  })
})
