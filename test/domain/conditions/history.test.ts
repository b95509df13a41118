// The history questions a condition asks, and the two ways of answering them.
import { describe, expect, it } from 'vitest'
import { FakeClock } from '../../../src/domain/clock.ts'
import { evaluate } from '../../../src/domain/conditions/evaluate.ts'
import {
  historyKey,
  historyQueries,
  memoryHistory,
  prefetchedHistory,
} from '../../../src/domain/conditions/history.ts'
import type { Condition, HistoryQuery } from '../../../src/domain/conditions/types.ts'
import { context, event, profile, STAGES } from './facts.ts'

const clock = new FakeClock('2026-01-05T09:00:00Z')
const now = clock.now()

describe('historyQueries', () => {
  it('lists one query per distinct performed condition, with its window at now', () => {
    const cond: Condition = {
      type: 'all',
      conditions: [
        { type: 'performed', event: 'Contacts Uploaded', within: '3d', max: 0 },
        { type: 'not', condition: { type: 'performed', event: 'Contacts Uploaded', within: '3d', min: 2 } },
        { type: 'any', conditions: [{ type: 'performed', event: 'Signed Up' }] },
        {
          type: 'performed',
          event: 'Post Created',
          where: [{ path: 'properties.forum', op: 'eq', value: 'photo-beginners' }],
          between: { from: '2026-01-01', to: '2026-01-02T12:00:00+01:00' },
        },
        { type: 'trait', path: 'plan', op: 'eq', value: 'pro' },
      ],
    }
    expect(historyQueries(cond, now)).toEqual([
      { event: 'Contacts Uploaded', where: [], from: new Date('2026-01-02T09:00:00Z'), to: now },
      { event: 'Signed Up', where: [], from: null, to: null },
      {
        event: 'Post Created',
        where: [{ path: 'properties.forum', op: 'eq', value: 'photo-beginners' }],
        from: new Date('2026-01-01T00:00:00Z'),
        to: new Date('2026-01-02T11:00:00Z'),
      },
    ])
  })

  it('asks nothing of a condition without performed', () => {
    expect(historyQueries({ type: 'trait', path: 'plan', op: 'exists' }, now)).toEqual([])
  })
})

describe('memoryHistory', () => {
  const history = memoryHistory([
    event('Post Created', '2026-01-01T00:00:00Z', { properties: { forum: 'a' } }),
    event('Post Created', '2026-01-03T00:00:00Z', { properties: { forum: 'b' } }),
    event('Post Created', '2026-01-02T00:00:00Z', { properties: { forum: 'a' } }),
    event('Signed Up', '2026-01-02T00:00:00Z'),
  ])
  const q = (over: Partial<HistoryQuery>): HistoryQuery => ({
    event: 'Post Created',
    where: [],
    from: null,
    to: null,
    ...over,
  })

  it('counts by name, window (ends included) and filters', () => {
    expect(history.count(q({}))).toBe(3)
    expect(history.count(q({ from: new Date('2026-01-02T00:00:00Z') }))).toBe(2)
    expect(history.count(q({ to: new Date('2026-01-02T00:00:00Z') }))).toBe(2)
    expect(history.count(q({ where: [{ path: 'properties.forum', op: 'eq', value: 'a' }] }))).toBe(2)
    expect(history.count(q({ event: 'Nope' }))).toBe(0)
  })

  it('gives matching times newest first, up to the limit, whatever order events came in', () => {
    expect(history.times(q({}), 2)).toEqual([
      new Date('2026-01-03T00:00:00Z'),
      new Date('2026-01-02T00:00:00Z'),
    ])
    expect(history.times(q({ where: [{ path: 'properties.forum', op: 'eq', value: 'a' }] }), 5)).toEqual([
      new Date('2026-01-02T00:00:00Z'),
      new Date('2026-01-01T00:00:00Z'),
    ])
  })
})

describe('prefetchedHistory', () => {
  const cond: Condition = {
    type: 'all',
    conditions: [
      { type: 'performed', event: 'Signed Up', within: '30d' },
      { type: 'performed', event: 'Contacts Uploaded', within: '3d', max: 0 },
    ],
  }

  it('answers what was prefetched under historyKey, so evaluate runs without I/O', () => {
    const queries = historyQueries(cond, now)
    const counts = new Map(queries.map((q) => [historyKey(q), q.event === 'Signed Up' ? 1 : 0]))
    const ctx = {
      now,
      profile: profile(),
      event: null,
      history: prefetchedHistory({ counts }),
      stages: STAGES,
    }
    expect(evaluate(cond, ctx)).toBe(true)
  })

  it('throws when asked what was not prefetched: a bug in the caller, not a false', () => {
    const ctx = {
      now,
      profile: profile(),
      event: null,
      history: prefetchedHistory({ counts: new Map() }),
      stages: STAGES,
    }
    expect(() => evaluate(cond, ctx)).toThrow(/History not prefetched/)
  })

  it('keys equal questions alike and different ones apart', () => {
    const [a] = historyQueries(cond, now)
    const [b] = historyQueries(structuredClone(cond), new Date(now))
    expect(historyKey(a!)).toBe(historyKey(b!))
    const [c] = historyQueries(cond, new Date(now.getTime() + 1))
    expect(historyKey(c!)).not.toBe(historyKey(a!))
  })

  it('agrees with memoryHistory on the same events', () => {
    const events = [event('Signed Up', '2026-01-01T00:00:00Z')]
    const mem = context(clock, { history: events })
    const counts = new Map(historyQueries(cond, now).map((q) => [historyKey(q), mem.history.count(q)]))
    const pre = { ...mem, history: prefetchedHistory({ counts }) }
    expect(evaluate(cond, pre)).toBe(evaluate(cond, mem))
  })
})
