// The comparison rules of every op, on the data shapes traits and properties arrive in.
import { afterEach, describe, expect, it } from 'vitest'
import { asInstant, compareValue } from '../../../src/domain/conditions/compare.ts'
import type { CompareOp } from '../../../src/domain/conditions/types.ts'

const now = new Date('2026-01-05T09:00:00Z')
const cmp = (actual: unknown, op: CompareOp, value?: unknown, ignoreCase = false) =>
  compareValue(actual, op, value, now, ignoreCase)

describe('eq / ne', () => {
  it.each([
    ['pro', 'pro', true],
    ['Pro', 'pro', false],
    [42, 42, true],
    ['42', 42, true],
    [42, '42', true],
    [' 42 ', 42, true],
    ['42.0', 42, true],
    ['42abc', 42, false],
    [true, true, true],
    ['true', true, true],
    [false, 'false', true],
    ['yes', true, false],
    [1, true, false],
    [0, '', false],
    [['pro'], 'pro', false],
    [{ plan: 'pro' }, 'pro', false],
    [undefined, 'pro', false],
    [null, 'pro', false],
    [new Date('2026-01-05T09:00:00Z'), '2026-01-05T09:00:00.000Z', true],
    [new Date('2026-01-05T09:00:00Z'), '2026-01-05T09:00:00', true],
  ])('%j eq %j is %s', (actual, value, expected) => {
    expect(cmp(actual, 'eq', value)).toBe(expected)
    expect(cmp(actual, 'ne', value)).toBe(!expected)
  })

  it('compares texts case-insensitively only when asked', () => {
    expect(cmp('Ann@Example.com', 'eq', 'ann@example.com')).toBe(false)
    expect(cmp('Ann@Example.com', 'eq', 'ann@example.com', true)).toBe(true)
    expect(cmp('Ann@Example.com', 'ne', 'ann@example.com', true)).toBe(false)
  })

  it('treats a missing field as different from anything (ne is true)', () => {
    expect(cmp(undefined, 'ne', 'pro')).toBe(true)
  })
})

describe('gt / gte / lt / lte', () => {
  it.each([
    [10, 'gt', 5, true],
    [5, 'gt', 5, false],
    [5, 'gte', 5, true],
    [4, 'lt', 5, true],
    [5, 'lt', 5, false],
    [5, 'lte', 5, true],
    ['10', 'gt', 5, true],
    ['10', 'gt', '9', true],
    // numbers, not texts: "10" > "9" numerically even though "10" < "9" as texts
    ['10', 'gt', 9, true],
    [-1.5, 'lt', 0, true],
    ['abc', 'gt', 5, false],
    ['abc', 'lt', 5, false],
    [true, 'gt', 0, false],
    [[10], 'gt', 5, false],
    [undefined, 'lt', 5, false],
    [null, 'lte', 5, false],
    [Number.NaN, 'lt', 5, false],
    ['2026-02-01', 'gt', '2026-01-31', true],
    ['2026-01-31T23:59:59Z', 'gt', '2026-02-01', false],
    [new Date('2026-03-01T00:00:00Z'), 'gte', '2026-03-01', true],
    ['2026-01-31T00:30:00Z', 'lt', '2026-01-31T01:00:00+01:00', false],
    ['2026-01-31T00:30:00Z', 'lt', '2026-01-31T01:00:00-01:00', true],
    [12, 'gt', '2026-01-01', false],
    ['soon', 'lt', '2026-01-01', false],
  ] as const)('%j %s %j is %s', (actual, op, value, expected) => {
    expect(cmp(actual, op, value)).toBe(expected)
  })

  it('is false when the filter value is neither a number nor a date', () => {
    expect(cmp(5, 'gt', 'abc')).toBe(false)
    expect(cmp(5, 'gt', true)).toBe(false)
    expect(cmp(5, 'gt', undefined)).toBe(false)
  })
})

describe('contains / not_contains', () => {
  it.each([
    ['ann@acme.com', '@acme.com', true],
    ['ann@ACME.com', '@acme.com', false],
    [['beta', 'photo'], 'photo', true],
    [['beta', 'photo'], 'pho', false],
    [[1, 2, 3], '2', true],
    ['v42', 42, true],
    [42, '4', false],
    [undefined, 'x', false],
    [{ a: 'x' }, 'x', false],
  ])('%j contains %j is %s', (actual, value, expected) => {
    expect(cmp(actual, 'contains', value)).toBe(expected)
    expect(cmp(actual, 'not_contains', value)).toBe(!expected)
  })

  it('ignores case in texts and list items when asked', () => {
    expect(cmp('ann@ACME.com', 'contains', '@acme.com', true)).toBe(true)
    expect(cmp(['Beta'], 'contains', 'beta', true)).toBe(true)
  })
})

describe('exists / not_exists', () => {
  it.each([
    ['', true],
    [0, true],
    [false, true],
    [[], true],
    [null, false],
    [undefined, false],
  ])('%j exists is %s', (actual, expected) => {
    expect(cmp(actual, 'exists')).toBe(expected)
    expect(cmp(actual, 'not_exists')).toBe(!expected)
  })
})

describe('in / not_in', () => {
  it.each([
    ['pro', ['pro', 'team'], true],
    ['free', ['pro', 'team'], false],
    ['2', [1, 2], true],
    [['a', 'team'], ['pro', 'team'], true],
    [['a', 'b'], ['pro', 'team'], false],
    [undefined, ['pro'], false],
    ['pro', 'pro', false],
  ])('%j in %j is %s', (actual, list, expected) => {
    expect(cmp(actual, 'in', list)).toBe(expected)
    expect(cmp(actual, 'not_in', list)).toBe(!expected)
  })

  it('ignores case when asked', () => {
    expect(cmp('PRO', 'in', ['pro'], true)).toBe(true)
    expect(cmp('PRO', 'in', ['pro'])).toBe(false)
  })
})

describe('before / after', () => {
  it.each([
    ['2026-01-01', 'before', '2026-01-02', true],
    ['2026-01-02', 'before', '2026-01-02', false],
    ['2026-01-03', 'after', '2026-01-02', true],
    ['2026-01-02', 'after', '2026-01-02', false],
    [new Date('2026-01-01T10:00:00Z'), 'before', '2026-01-01T11:00:00+00:00', true],
    ['2026-01-01T12:00:00+02:00', 'before', '2026-01-01T11:00:00Z', true],
    ['not a date', 'before', '2026-01-02', false],
    ['2026-02-30', 'before', '2027-01-01', false],
    [1767225600000, 'before', '2027-01-01', false],
    [undefined, 'after', '2026-01-02', false],
  ] as const)('%j %s %j is %s', (actual, op, value, expected) => {
    expect(cmp(actual, op, value)).toBe(expected)
  })
})

describe('within_last / within_next, edges included', () => {
  it.each([
    ['2026-01-02T09:00:00Z', 'within_last', '3d', true],
    ['2026-01-02T08:59:59.999Z', 'within_last', '3d', false],
    ['2026-01-05T09:00:00Z', 'within_last', '3d', true],
    ['2026-01-05T09:00:00.001Z', 'within_last', '3d', false],
    ['2026-01-12T09:00:00Z', 'within_next', '1w', true],
    ['2026-01-12T09:00:00.001Z', 'within_next', '1w', false],
    ['2026-01-05T09:00:00Z', 'within_next', '1w', true],
    ['2026-01-05T08:59:59.999Z', 'within_next', '1w', false],
    ['2026-01-05T08:00:00Z', 'within_last', 3_600_000, true],
    ['2026-01-05T08:00:00Z', 'within_last', '3x', false],
    [undefined, 'within_last', '3d', false],
    ['yesterday', 'within_last', '3d', false],
  ] as const)('%j %s %j is %s', (actual, op, value, expected) => {
    expect(cmp(actual, op, value)).toBe(expected)
  })
})

describe('dates do not depend on the server timezone', () => {
  const original = process.env.TZ
  afterEach(() => {
    process.env.TZ = original
  })

  it.each(['UTC', 'America/New_York', 'Asia/Kolkata', 'Pacific/Kiritimati'])('in %s', (tz) => {
    process.env.TZ = tz
    expect(asInstant('2026-01-05T09:00:00')).toBe(Date.UTC(2026, 0, 5, 9))
    expect(asInstant('2026-01-05')).toBe(Date.UTC(2026, 0, 5))
    expect(asInstant('2026-01-05 09:30')).toBe(Date.UTC(2026, 0, 5, 9, 30))
    expect(asInstant('2026-01-05T09:00:00+0530')).toBe(Date.UTC(2026, 0, 5, 3, 30))
    expect(asInstant('2026-01-05T09:00:00.123456Z')).toBe(Date.UTC(2026, 0, 5, 9, 0, 0, 123))
    expect(cmp('2026-01-05T08:00:00', 'within_last', '1h')).toBe(true)
    expect(cmp('2026-01-05', 'before', '2026-01-05T00:00:01')).toBe(true)
  })

  it('refuses impossible dates and times', () => {
    expect(asInstant('2026-02-29')).toBeNull()
    expect(asInstant('2028-02-29')).toBe(Date.UTC(2028, 1, 29))
    expect(asInstant('2026-13-01')).toBeNull()
    expect(asInstant('2026-01-01T24:00:00Z')).toBeNull()
    expect(asInstant('2026-01-01T10:60:00Z')).toBeNull()
    expect(asInstant(new Date('nope'))).toBeNull()
    expect(asInstant(20260101)).toBeNull()
  })
})
