import { describe, expect, it } from 'vitest'
import { event, loadExample, on, run, sendLines } from '../../../helpers/journeys.ts'

const journey = loadExample('abandoned-booking')
const window = { start: '2026-01-21T00:00:00Z', end: '2026-02-28T00:00:00Z' }
const search = (at: string, trip: string) =>
  event('Trip Searched', at, { trip_id: trip, from: 'Paris', to: 'Brussels' })
const booking = (at: string, trip: string) => event('Booking Completed', at, { trip_id: trip })

describe('abandoned-booking.yaml', () => {
  it('sends an email and a push 30 minutes after a search that was not booked', () => {
    const result = run(journey, [on('ann', search('2026-01-21T08:00:00Z', 'PAR-BRU-0121'))], window)
    expect(sendLines(result)).toEqual([
      'ann email:finish-your-booking 2026-01-21T08:30:00.000Z',
      'ann push:finish-your-booking-push 2026-01-21T08:30:00.000Z',
    ])
  })

  it('sends nothing when the same trip is booked within 30 minutes', () => {
    const result = run(
      journey,
      [on('bob', search('2026-01-21T08:00:00Z', 'T1')), on('bob', booking('2026-01-21T08:29:00Z', 'T1'))],
      window,
    )
    expect(result.sends).toEqual([])
    expect(result.runs[0]?.status).toBe('converted')
  })

  it('does not count the booking of another trip', () => {
    const result = run(
      journey,
      [on('cat', search('2026-01-21T08:00:00Z', 'T1')), on('cat', booking('2026-01-21T08:10:00Z', 'T2'))],
      window,
    )
    expect(sendLines(result)).toEqual([
      'cat email:finish-your-booking 2026-01-21T08:30:00.000Z',
      'cat push:finish-your-booking-push 2026-01-21T08:30:00.000Z',
    ])
  })

  it('attributes a later booking of that trip to the push', () => {
    const result = run(
      journey,
      [on('dan', search('2026-01-21T08:00:00Z', 'T1')), on('dan', booking('2026-01-22T19:00:00Z', 'T1'))],
      window,
    )
    expect(result.sends).toHaveLength(2)
    const runState = result.runs[0]
    expect(runState?.status).toBe('converted')
    expect(runState?.lastSend?.template).toBe('finish-your-booking-push')
  })

  it('treats each trip on its own, and one search per trip', () => {
    const result = run(
      journey,
      [
        on('eve', search('2026-01-21T08:00:00Z', 'T1')),
        on('eve', search('2026-01-21T08:05:00Z', 'T1')),
        on('eve', search('2026-01-21T08:10:00Z', 'T2')),
        on('eve', booking('2026-01-21T08:20:00Z', 'T2')),
      ],
      window,
    )
    expect(sendLines(result)).toEqual([
      'eve email:finish-your-booking 2026-01-21T08:30:00.000Z',
      'eve push:finish-your-booking-push 2026-01-21T08:30:00.000Z',
    ])
  })
})
