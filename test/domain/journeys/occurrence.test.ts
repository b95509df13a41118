import { describe, expect, it } from 'vitest'
import { nextCronAt, parseCron } from '../../../src/domain/journeys/cron.ts'
import { nextDateOccurrence, nextScheduleOccurrence } from '../../../src/domain/journeys/occurrence.ts'

describe('date triggers', () => {
  it('renewal_at - 7d at 09:00 in the member timezone', () => {
    const t = nextDateOccurrence(
      { type: 'date', trait: 'renewal_at', offset: '-7d', at: '09:00' },
      { renewal_at: '2026-06-15T16:00:00Z' },
      new Date('2026-05-01T00:00:00Z'),
      'Europe/Paris',
    )
    expect(t?.toISOString()).toBe('2026-06-08T07:00:00.000Z')
    expect(
      nextDateOccurrence(
        { type: 'date', trait: 'renewal_at' },
        { renewal_at: '2026-01-01' },
        new Date('2026-05-01'),
        'UTC',
      ),
    ).toBeNull()
    expect(
      nextDateOccurrence({ type: 'date', trait: 'renewal_at' }, {}, new Date('2026-05-01'), 'UTC'),
    ).toBeNull()
  })

  it('anniversaries repeat every year, 29 February on 28 February', () => {
    const trigger = { type: 'date', trait: 'joined_at', repeat: 'yearly', at: '10:00' } as const
    const after = new Date('2026-03-10T00:00:00Z')
    expect(
      nextDateOccurrence(trigger, { joined_at: '2021-03-12T08:00:00Z' }, after, 'UTC')?.toISOString(),
    ).toBe('2026-03-12T10:00:00.000Z')
    expect(
      nextDateOccurrence(trigger, { joined_at: '2021-03-01T08:00:00Z' }, after, 'UTC')?.toISOString(),
    ).toBe('2027-03-01T10:00:00.000Z')
    expect(
      nextDateOccurrence(
        trigger,
        { joined_at: '2024-02-29T08:00:00Z' },
        new Date('2026-01-01'),
        'UTC',
      )?.toISOString(),
    ).toBe('2026-02-28T10:00:00.000Z')
  })
})

describe('cron schedules', () => {
  it('rejects malformed expressions', () => {
    expect(parseCron('0 9 * *')).toBeNull()
    expect(parseCron('61 9 * * *')).toBeNull()
    expect(parseCron('0 9 * * funday')).toBeNull()
  })

  it('Mondays at 9:00 in the member timezone, across DST', () => {
    const cron = parseCron('0 9 * * mon')!
    // Friday 27 March 2026; the next Monday is 30 March, after clocks went forward: 07:00Z.
    expect(nextCronAt(cron, new Date('2026-03-27T12:00:00Z'), 'Europe/Paris')?.toISOString()).toBe(
      '2026-03-30T07:00:00.000Z',
    )
    expect(nextCronAt(cron, new Date('2026-03-30T07:00:00Z'), 'Europe/Paris')?.toISOString()).toBe(
      '2026-04-06T07:00:00.000Z',
    )
  })

  it('steps, ranges, lists and the day-of-month OR weekday rule', () => {
    expect(
      nextCronAt(parseCron('*/15 8-9 * * *')!, new Date('2026-01-05T09:50:00Z'), 'UTC')?.toISOString(),
    ).toBe('2026-01-06T08:00:00.000Z')
    // 1st of the month or any Friday: from Tuesday 6 January, Friday 9 January comes first.
    expect(
      nextCronAt(parseCron('0 12 1 * fri')!, new Date('2026-01-06T00:00:00Z'), 'UTC')?.toISOString(),
    ).toBe('2026-01-09T12:00:00.000Z')
    expect(
      nextScheduleOccurrence(
        { type: 'schedule', cron: '30 8 1 jan,jul *', timezone: 'America/New_York' },
        new Date('2026-02-01T00:00:00Z'),
        'UTC',
      )?.toISOString(),
    ).toBe('2026-07-01T12:30:00.000Z')
  })
})
