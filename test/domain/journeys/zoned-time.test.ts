import { describe, expect, it } from 'vitest'
import { fromZoned, toZoned } from '../../../src/domain/journeys/zoned-time.ts'

describe('zoned time', () => {
  it('reads and writes wall-clock times in several timezones', () => {
    const t = new Date('2026-07-01T12:00:00Z')
    expect(toZoned(t, 'Europe/Paris')).toMatchObject({ hour: 14, minute: 0 })
    expect(toZoned(t, 'Asia/Kolkata')).toMatchObject({ hour: 17, minute: 30 })
    expect(
      fromZoned(
        { year: 2026, month: 7, day: 1, hour: 8, minute: 0, second: 0 },
        'America/Los_Angeles',
      ).toISOString(),
    ).toBe('2026-07-01T15:00:00.000Z')
  })

  it('in an overlap (clocks go back) takes the first 02:30', () => {
    // 25 October 2026, Paris: 03:00 CEST → 02:00 CET; 02:30 happens twice.
    const t = fromZoned({ year: 2026, month: 10, day: 25, hour: 2, minute: 30, second: 0 }, 'Europe/Paris')
    expect(t.toISOString()).toBe('2026-10-25T00:30:00.000Z')
  })

  it('in a gap (clocks go forward) moves forward by the gap', () => {
    const t = fromZoned({ year: 2026, month: 3, day: 8, hour: 2, minute: 30, second: 0 }, 'America/New_York')
    expect(t.toISOString()).toBe('2026-03-08T07:30:00.000Z') // 03:30 EDT
  })
})
