// Segment definitions, membership transitions, evaluation order and which segments an
// event may change.
import { describe, expect, it } from 'vitest'
import type { Condition } from '../../../src/domain/conditions/types.ts'
import { segmentsAffectedBy } from '../../../src/domain/segments/affected.ts'
import { membershipChange, membershipEvent } from '../../../src/domain/segments/membership.ts'
import { segmentOrder } from '../../../src/domain/segments/order.ts'
import { parseSegment } from '../../../src/domain/segments/schema.ts'
import type { Segment } from '../../../src/domain/segments/types.ts'

const seg = (id: string, condition: Condition): Segment => ({ id, name: id, condition })

describe('parseSegment', () => {
  it('accepts a named condition', () => {
    const r = parseSegment({
      id: 'power-users',
      name: 'Power users',
      condition: { type: 'performed', event: 'Post Created', within: '30d', min: 10 },
    })
    expect(r).toEqual({
      ok: true,
      value: {
        id: 'power-users',
        name: 'Power users',
        condition: { type: 'performed', event: 'Post Created', within: '30d', min: 10 },
      },
    })
  })

  it.each([
    [
      { id: 'Power Users', name: 'x', condition: { type: 'all', conditions: [] } },
      'segments[0].id',
      'id must be 1-64 lowercase letters, digits, - or _, starting with a letter or digit (such as power-users)',
    ],
    [
      { id: 'p', name: '', condition: { type: 'all', conditions: [] } },
      'segments[0].name',
      'name must not be empty',
    ],
    [
      { id: 'p', name: 'P', condition: { type: 'trait', path: 'plan', op: 'eq' } },
      'segments[0].condition.value',
      'eq needs a value: a text, a number or true/false',
    ],
    [
      { id: 'p', name: 'P', condition: { type: 'event', path: 'properties.forum', op: 'eq', value: 'a' } },
      'segments[0].condition',
      'a segment cannot test the event being processed (type: event): use a performed condition',
    ],
    [
      { id: 'p', name: 'P', condition: { type: 'segment', segment: 'p' } },
      'segments[0].condition',
      'segment p cannot depend on itself',
    ],
    [
      { id: 'p', name: 'P', condition: { type: 'all', conditions: [] }, rule: 1 },
      'segments[0]',
      "unknown field 'rule': a segment has id, name, description, condition",
    ],
  ])('%j → %s: %s', (input, path, message) => {
    const r = parseSegment(input, 'segments[0]')
    expect(r.ok).toBe(false)
    if (!r.ok) expect(r.issues).toContainEqual({ path, message })
  })
})

describe('membershipChange', () => {
  it.each([
    [false, true, 'entered'],
    [true, false, 'exited'],
    [true, true, null],
    [false, false, null],
  ] as const)('was %s, is %s → %s', (was, is, change) => {
    expect(membershipChange(was, is)).toBe(change)
  })

  it('names the events', () => {
    expect(membershipEvent('entered')).toBe('Segment Entered')
    expect(membershipEvent('exited')).toBe('Segment Exited')
  })
})

describe('segmentOrder', () => {
  const engaged = seg('engaged', { type: 'performed', event: 'Post Created', within: '7d' })
  const atRisk = seg('at-risk', {
    type: 'not',
    condition: { type: 'segment', segment: 'engaged', member: true },
  })
  const vipAtRisk = seg('vip-at-risk', {
    type: 'all',
    conditions: [
      { type: 'segment', segment: 'at-risk', member: true },
      { type: 'trait', path: 'plan', op: 'eq', value: 'pro' },
    ],
  })

  it('puts every segment after those it refers to', () => {
    const r = segmentOrder([vipAtRisk, atRisk, engaged])
    expect(r.ok && r.order.map((s) => s.id)).toEqual(['engaged', 'at-risk', 'vip-at-risk'])
  })

  it('refuses unknown references, duplicate ids and cycles', () => {
    expect(segmentOrder([atRisk])).toEqual({
      ok: false,
      issues: [
        { path: 'segments[0].condition', message: 'segment at-risk refers to unknown segment engaged' },
      ],
    })
    expect(segmentOrder([engaged, { ...engaged }])).toEqual({
      ok: false,
      issues: [{ path: 'segments[1].id', message: 'segment id engaged is used twice' }],
    })
    const a = seg('a', { type: 'segment', segment: 'b', member: true })
    const b = seg('b', { type: 'any', conditions: [{ type: 'segment', segment: 'c', member: false }] })
    const c = seg('c', { type: 'segment', segment: 'a', member: true })
    expect(segmentOrder([a, b, c])).toEqual({
      ok: false,
      issues: [
        { path: 'segments[0].condition', message: 'segments refer to each other in a cycle: a → b → c → a' },
      ],
    })
  })
})

describe('segmentsAffectedBy', () => {
  const segments = [
    seg('posters', { type: 'performed', event: 'Post Created', within: '7d', min: 3 }),
    seg('lyon', { type: 'trait', path: 'address.city', op: 'eq', value: 'Lyon' }),
    seg('pro', { type: 'trait', path: 'plan', op: 'eq', value: 'pro' }),
    seg('inactive', { type: 'not', condition: { type: 'last_seen', op: 'within_last', value: '14d' } }),
    seg('newcomers', { type: 'first_seen', op: 'within_last', value: '7d' }),
    seg('helpers', { type: 'badge', badge: 'helper', has: true }),
    seg('members', { type: 'stage', op: 'gte', stage: 'member' }),
    seg('hot', { type: 'score', op: 'gte', value: 50 }),
    seg('pro-posters', {
      type: 'all',
      conditions: [
        { type: 'segment', segment: 'posters', member: true },
        { type: 'segment', segment: 'pro', member: true },
      ],
    }),
  ]
  const ids = (change: Parameters<typeof segmentsAffectedBy>[0]) =>
    segmentsAffectedBy(change, segments).map((s) => s.id)

  it('an event affects the segments counting it, and those built on them, in order', () => {
    expect(ids({ event: 'Post Created' })).toEqual(['posters', 'pro-posters'])
    expect(ids({ event: 'Page Viewed' })).toEqual([])
  })

  it('a trait change affects segments reading that trait, its parents or its children', () => {
    expect(ids({ traits: ['address'] })).toEqual(['lyon'])
    expect(ids({ traits: ['address.city.code'] })).toEqual(['lyon'])
    expect(ids({ traits: ['address.zip'] })).toEqual([])
    expect(ids({ traits: ['plan'] })).toEqual(['pro', 'pro-posters'])
  })

  it('seen times, badges, stage and score each affect their segments only', () => {
    expect(ids({ lastSeen: true })).toEqual(['inactive'])
    expect(ids({ firstSeen: true })).toEqual(['newcomers'])
    expect(ids({ badges: ['helper'] })).toEqual(['helpers'])
    expect(ids({ badges: ['other'] })).toEqual([])
    expect(ids({ stage: true })).toEqual(['members'])
    expect(ids({ score: true })).toEqual(['hot'])
  })

  it('a membership change elsewhere (a timer) affects the segments built on it', () => {
    expect(ids({ segments: ['pro'] })).toEqual(['pro-posters'])
  })

  it('a typical tracked event: its name, last seen and score', () => {
    expect(ids({ event: 'Post Created', lastSeen: true, score: true })).toEqual([
      'posters',
      'inactive',
      'hot',
      'pro-posters',
    ])
  })
})
