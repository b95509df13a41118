import { describe, expect, it } from 'vitest'
import { event, identify, loadExample, on, run } from '../../../helpers/journeys.ts'

const journey = loadExample('feedback-ask')
const window = { start: '2026-01-01T00:00:00Z', end: '2026-12-31T00:00:00Z' }

describe('feedback-ask.yaml', () => {
  it('asks three days after sign-up, at the next 9:00 in the member timezone, as plain text from a person', () => {
    // Signed up Monday 5 January 15:00 in Paris: three days later is Thursday 15:00, past
    // the window, so the mail goes on Friday 9 January at 09:00 Paris (08:00 UTC).
    const result = run(journey, [on('ann', event('Signed Up', '2026-01-05T14:00:00Z'))], window, [
      { id: 'ann', timezone: 'Europe/Paris' },
    ])
    expect(result.sends).toHaveLength(1)
    const [send] = result.sends
    expect(send?.at.toISOString()).toBe('2026-01-09T08:00:00.000Z')
    expect(send?.template).toBe('feedback-ask')
    expect(send?.from).toBe('Camille from the community <camille@example.org>')
    expect(send?.plainText).toBe(true)
  })

  it('keeps the exact time when three days later already falls inside the window', () => {
    const result = run(journey, [on('bob', event('Signed Up', '2026-01-05T08:20:00Z'))], window, [
      { id: 'bob', timezone: 'Europe/Paris' },
    ])
    expect(result.sends.map((s) => s.at.toISOString())).toEqual(['2026-01-08T08:20:00.000Z'])
  })

  it('follows each member timezone, a timezone given by identify, and the journey default', () => {
    const result = run(
      journey,
      [
        on('ny', event('Signed Up', '2026-01-05T14:00:00Z')),
        on('tokyo', identify('2026-01-05T13:00:00Z', { timezone: 'Asia/Tokyo' })),
        on('tokyo', event('Signed Up', '2026-01-05T14:00:00Z')),
        on('nobody', event('Signed Up', '2026-01-05T14:00:00Z')),
      ],
      window,
      [{ id: 'ny', timezone: 'America/New_York' }],
    )
    const at = Object.fromEntries(result.sends.map((s) => [s.profileId, s.at.toISOString()]))
    // 8 Jan 14:00Z is 09:00 in New York (inside the window): sent as is.
    expect(at['ny']).toBe('2026-01-08T14:00:00.000Z')
    // 8 Jan 14:00Z is 23:00 in Tokyo: next 09:00 Tokyo is 9 Jan 00:00Z.
    expect(at['tokyo']).toBe('2026-01-09T00:00:00.000Z')
    // No timezone: the journey's Europe/Paris.
    expect(at['nobody']).toBe('2026-01-09T08:00:00.000Z')
  })

  it('stays at 9:00 local across the spring DST change', () => {
    // Signed up Thursday 26 March 2026 12:00 Paris (CET). Three days later is Sunday
    // 29 March, the day clocks go forward: 12:00 local is past the window, the next 09:00
    // is Monday 30 March at 09:00 CEST = 07:00 UTC.
    const result = run(journey, [on('eve', event('Signed Up', '2026-03-26T11:00:00Z'))], window, [
      { id: 'eve', timezone: 'Europe/Paris' },
    ])
    expect(result.sends.map((s) => s.at.toISOString())).toEqual(['2026-03-30T07:00:00.000Z'])
  })
})
