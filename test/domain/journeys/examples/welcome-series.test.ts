import { describe, expect, it } from 'vitest'
import { event, loadExample, on, run, sendLines } from '../../../helpers/journeys.ts'

const journey = loadExample('welcome-series')
const window = { start: '2026-03-01T00:00:00Z', end: '2026-04-30T00:00:00Z' }

describe('welcome-series.yaml', () => {
  it('sends the welcome at once, then the newcomer series on days 2, 5 and 9', () => {
    const result = run(journey, [on('ann', event('Signed Up', '2026-03-02T10:00:00Z'))], window)
    expect(sendLines(result)).toEqual([
      'ann email:welcome 2026-03-02T10:00:00.000Z',
      'ann email:newcomer-1-find-your-way 2026-03-04T10:00:00.000Z',
      'ann email:newcomer-2-first-post 2026-03-07T10:00:00.000Z',
      'ann email:newcomer-3-meet-the-regulars 2026-03-11T10:00:00.000Z',
    ])
    expect(result.totals.completed).toBe(1)
  })

  it('stops at once when the member unsubscribes in the middle of a delay', () => {
    const result = run(
      journey,
      [
        on('bob', event('Signed Up', '2026-03-02T10:00:00Z')),
        on('bob', event('Unsubscribed', '2026-03-05T08:00:00Z')),
      ],
      window,
    )
    expect(sendLines(result)).toEqual([
      'bob email:welcome 2026-03-02T10:00:00.000Z',
      'bob email:newcomer-1-find-your-way 2026-03-04T10:00:00.000Z',
    ])
    expect(result.runs[0]?.status).toBe('exited')
    expect(result.runs[0]?.endedAt?.toISOString()).toBe('2026-03-05T08:00:00.000Z')
  })

  it('converts when the member becomes active, and sends nothing more', () => {
    const result = run(
      journey,
      [
        on('cat', event('Signed Up', '2026-03-02T10:00:00Z')),
        on('cat', event('Stage Entered', '2026-03-03T12:00:00Z', { stage: 'member' })),
        on('cat', event('Stage Entered', '2026-03-06T12:00:00Z', { stage: 'active_member' })),
      ],
      window,
    )
    expect(sendLines(result)).toEqual([
      'cat email:welcome 2026-03-02T10:00:00.000Z',
      'cat email:newcomer-1-find-your-way 2026-03-04T10:00:00.000Z',
    ])
    expect(result.totals.converted).toBe(1)
  })

  it('welcomes a member once even if Signed Up arrives twice', () => {
    const result = run(
      journey,
      [
        on('dan', event('Signed Up', '2026-03-02T10:00:00Z')),
        on('dan', event('Signed Up', '2026-03-20T10:00:00Z')),
      ],
      window,
    )
    expect(result.sends.filter((s) => s.template === 'welcome')).toHaveLength(1)
    expect(result.totals.skipped).toBe(1)
  })
})
