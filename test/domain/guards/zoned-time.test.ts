import { describe, expect, it } from 'vitest'
import {
  formatLocal,
  instantAtWall,
  isValidTimeZone,
  offsetAt,
  wallMsOf,
} from '../../../src/domain/guards/zoned-time.ts'

const wall = (iso: string) => Date.parse(`${iso}Z`) // a wall time written as if it were UTC
const at = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())

describe('wall-clock time in IANA timezones', () => {
  it.each([
    ['Europe/Paris', '2026-01-15T12:00:00Z', 1],
    ['Europe/Paris', '2026-07-15T12:00:00Z', 2],
    ['Asia/Kolkata', '2026-01-15T12:00:00Z', 5.5],
    ['Asia/Kathmandu', '2026-01-15T12:00:00Z', 5.75],
    ['America/New_York', '2026-07-15T12:00:00Z', -4],
    ['Pacific/Auckland', '2026-01-15T12:00:00Z', 13],
  ])('%s at %s is UTC%+d h', (tz, instant, hours) => {
    expect(offsetAt(Date.parse(instant), tz)).toBe(hours * 3_600_000)
  })

  it('a wall time that exists once maps to its instant', () => {
    expect(at(instantAtWall(wall('2026-01-06T08:00:00'), 'Europe/Paris'))).toBe('2026-01-06T07:00:00.000Z')
    expect(at(instantAtWall(wall('2026-01-06T08:00:00'), 'Asia/Kolkata'))).toBe('2026-01-06T02:30:00.000Z')
  })

  it('a wall time in a spring-forward gap maps to the jump', () => {
    expect(at(instantAtWall(wall('2026-03-29T02:30:00'), 'Europe/Paris'))).toBe('2026-03-29T01:00:00.000Z')
    expect(at(instantAtWall(wall('2026-03-08T02:15:00'), 'America/New_York'))).toBe(
      '2026-03-08T07:00:00.000Z',
    )
  })

  it('a wall time in a fall-back overlap maps to its first occurrence not before notBefore', () => {
    const twice = wall('2026-10-25T02:30:00')
    expect(at(instantAtWall(twice, 'Europe/Paris'))).toBe('2026-10-25T00:30:00.000Z')
    expect(at(instantAtWall(twice, 'Europe/Paris', Date.parse('2026-10-25T00:30:00.001Z')))).toBe(
      '2026-10-25T01:30:00.000Z',
    )
    expect(instantAtWall(twice, 'Europe/Paris', Date.parse('2026-10-25T01:30:00.001Z'))).toBeNull()
  })

  it('local dates overflow into the next month and year', () => {
    expect(wallMsOf(2026, 12, 32, 8 * 3600)).toBe(wall('2027-01-01T08:00:00'))
  })

  it('formats for people and knows which names are timezones', () => {
    expect(formatLocal(Date.parse('2026-01-09T09:00:00Z'), 'Europe/Paris')).toBe('2026-01-09 10:00')
    expect(isValidTimeZone('Pacific/Auckland')).toBe(true)
    expect(isValidTimeZone('UTC')).toBe(true)
    expect(isValidTimeZone('Europe/Pariss')).toBe(false)
    expect(isValidTimeZone('')).toBe(false)
  })
})
