import { describe, expect, it } from 'vitest'
import {
  DAY,
  durationMs,
  formatDuration,
  HOUR,
  MINUTE,
  parseDuration,
  spellDuration,
  WEEK,
} from '../../../src/domain/conditions/duration.ts'

describe('parseDuration', () => {
  it.each([
    ['30m', 30 * MINUTE],
    ['2h', 2 * HOUR],
    ['3d', 3 * DAY],
    ['1w', WEEK],
    ['1d12h', DAY + 12 * HOUR],
    ['1d 12h', DAY + 12 * HOUR],
    ['45s', 45_000],
    ['250ms', 250],
    ['1h30m15s', HOUR + 30 * MINUTE + 15_000],
    ['0m', 0],
    [' 2h ', 2 * HOUR],
  ])('%s is %d ms', (text, ms) => {
    expect(parseDuration(text)).toEqual({ ok: true, ms })
  })

  it('takes a whole number as milliseconds', () => {
    expect(parseDuration(90_000)).toEqual({ ok: true, ms: 90_000 })
    expect(parseDuration(0)).toEqual({ ok: true, ms: 0 })
  })

  it.each([
    ['3x', "'3x' is not a duration such as 30m, 2h, 3d, 1w or 1d12h"],
    ['', 'an empty text is not a duration such as 30m, 2h, 3d, 1w or 1d12h'],
    ['90', "'90' has no unit: write 90ms, 90s, 90m, 90h or 90d"],
    ['-3d', "'-3d' is negative: durations count forward"],
    ['2mo', "'2mo': months and years vary in length, write days or weeks (30d, 52w)"],
    ['1y', "'1y': months and years vary in length, write days or weeks (30d, 52w)"],
    ['3 days', "'3 days' is not a duration such as 30m, 2h, 3d, 1w or 1d12h"],
    ['3D', "'3D' is not a duration such as 30m, 2h, 3d, 1w or 1d12h"],
    ['d3', "'d3' is not a duration such as 30m, 2h, 3d, 1w or 1d12h"],
  ])('refuses %j', (text, message) => {
    expect(parseDuration(text)).toEqual({ ok: false, message })
  })

  it('refuses negative, fractional and non-finite numbers and other types', () => {
    expect(parseDuration(-1)).toEqual({
      ok: false,
      message: '-1 is not a whole, non-negative number of milliseconds',
    })
    expect(parseDuration(1.5).ok).toBe(false)
    expect(parseDuration(Number.POSITIVE_INFINITY).ok).toBe(false)
    expect(parseDuration(null)).toEqual({
      ok: false,
      message: 'null is not a duration such as 30m, 2h, 3d, 1w or 1d12h',
    })
    expect(parseDuration(['3d']).ok).toBe(false)
    expect(parseDuration({}).ok).toBe(false)
  })

  it('durationMs throws on what the schema would have refused', () => {
    expect(durationMs('3d')).toBe(3 * DAY)
    expect(() => durationMs('soon')).toThrow(/not a duration/)
  })
})

describe('formatDuration', () => {
  it.each([
    [3 * DAY, '3 days'],
    [DAY, '1 day'],
    [DAY + 12 * HOUR, '1 day 12 hours'],
    [30 * MINUTE, '30 minutes'],
    [2 * WEEK, '2 weeks'],
    [10 * DAY, '10 days'],
    [90_000, '1 minute 30 seconds'],
    [0, '0 seconds'],
    [1, '1 millisecond'],
  ])('%d ms reads "%s"', (ms, text) => {
    expect(formatDuration(ms)).toBe(text)
  })
})

describe('spellDuration', () => {
  it.each([
    ['7d', '7 days'],
    ['1w', '1 week'],
    ['1d12h', '1 day 12 hours'],
    ['1m', '1 minute'],
    ['90000ms', '1 minute 30 seconds'],
    [3_600_000, '1 hour'],
    ['soon', 'soon'],
  ])('%j reads "%s"', (input, text) => {
    expect(spellDuration(input)).toBe(text)
  })
})
