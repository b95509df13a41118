import { describe, expect, it } from 'vitest'
import { event, loadExample, on, run, sendLines } from '../../../helpers/journeys.ts'

const journey = loadExample('airport-ride')
const window = { start: '2026-07-01T00:00:00Z', end: '2026-07-31T00:00:00Z' }
const at = (when: string, place_type: string) => event('Location Updated', when, { place_type, place: 'CDG' })

describe('airport-ride.yaml', () => {
  it('offers a ride at the airport at once, at most once per day', () => {
    const result = run(
      journey,
      [
        on('ann', at('2026-07-03T07:00:00Z', 'airport')),
        on('ann', at('2026-07-03T09:00:00Z', 'airport')),
        on('ann', at('2026-07-03T12:00:00Z', 'station')),
        on('ann', at('2026-07-04T06:59:00Z', 'airport')),
        on('ann', at('2026-07-04T07:01:00Z', 'airport')),
      ],
      window,
    )
    expect(sendLines(result)).toEqual([
      'ann push:airport-ride-offer 2026-07-03T07:00:00.000Z',
      'ann push:airport-ride-offer 2026-07-04T07:01:00.000Z',
    ])
  })

  it('never offers a ride elsewhere', () => {
    const result = run(journey, [on('bob', at('2026-07-03T07:00:00Z', 'station'))], window)
    expect(result.sends).toEqual([])
  })
})
