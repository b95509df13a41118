import { describe, expect, it } from 'vitest'
import type { SimulationResult } from '../../../src/domain/journeys/simulate.ts'
import type { Journey } from '../../../src/domain/journeys/types.ts'
import { explainWhy } from '../../../src/domain/journeys/why.ts'
import { event, loadExample, on, plansJourney, run } from '../../helpers/journeys.ts'

const window = { start: '2026-01-01T00:00:00Z', end: '2026-03-01T00:00:00Z' }

function why(journey: Journey, result: SimulationResult, profileId: string, template: string, who: string) {
  const runs = result.runs
    .filter((r) => r.profileId === profileId && r.journeyId === journey.id)
    .map((r) => ({ run: r, trace: result.trace.filter((t) => t.runId === r.id) }))
  return explainWhy({ journey, template, runs, who })
}

describe('explainWhy', () => {
  const booking = loadExample('abandoned-booking')

  it('says when and after which decisions a message went out', () => {
    const result = run(
      booking,
      [on('ann', event('Trip Searched', '2026-01-21T08:00:00Z', { trip_id: 'T1' }))],
      window,
    )
    expect(why(booking, result, 'ann', 'finish-your-booking', 'Ann')).toEqual([
      'In the run that entered because Trip Searched (properties.trip_id is set) happened (key T1), Ann got finish-your-booking on 2026-01-21 08:30 after: waiting for Booking Completed (same properties.trip_id) with "T1" until 2026-01-21 08:30 UTC (timeout 30m); no Booking Completed within 30m: taking the on_timeout path.',
    ])
  })

  it('says why a message was not sent: the goal was reached first', () => {
    const result = run(
      booking,
      [
        on('bob', event('Trip Searched', '2026-01-21T08:00:00Z', { trip_id: 'T1' })),
        on('bob', event('Booking Completed', '2026-01-21T08:10:00Z', { trip_id: 'T1' })),
      ],
      window,
    )
    expect(why(booking, result, 'bob', 'finish-your-booking', 'Bob')).toEqual([
      'In the run that entered because Trip Searched (properties.trip_id is set) happened (key T1), finish-your-booking was not sent: the run ended on 2026-01-21 08:10 before reaching it (converted: goal Booking Completed (same properties.trip_id) reached).',
    ])
  })

  it('says which branch decision kept a message away', () => {
    const journey = plansJourney
    const result = run(journey, [on('cat', event('Signed Up', '2026-01-05T10:00:00Z'))], window, [
      { id: 'cat', traits: { plan: 'free' } },
    ])
    expect(why(journey, result, 'cat', 'pro-tips', 'Cat')).toEqual([
      "In the run that entered because Signed Up happened (key once), pro-tips was not sent: the message needs the branch path 'pro', but branch 'else' taken: no path matched among 'pro' (plan = pro).",
    ])
  })

  it('says a skipped entry, a message not yet due, and a template the journey never sends', () => {
    const rules = loadExample('rules-reminder')
    const comment = (at: string, id: string) =>
      event('Moderation Comment Received', at, { comment: 'read-the-rules', comment_id: id })
    const result = run(
      rules,
      [on('dan', comment('2026-01-05T10:00:00Z', 'c1')), on('dan', comment('2026-01-06T10:00:00Z', 'c2'))],
      window,
    )
    const skipped = result.trace.filter((t) => t.kind === 'skipped')
    const answer = explainWhy({ journey: rules, template: 'charter-reminder', runs: [], skipped, who: 'Dan' })
    expect(answer[1]).toBe(
      'On 2026-01-06 10:00, the entry was skipped: at most 1 per 7d, last entered on 2026-01-05T10:00:00.000Z.',
    )
    expect(explainWhy({ journey: rules, template: 'welcome', runs: [] })).toEqual([
      'Journey rules-reminder never sends welcome.',
    ])

    const tip = loadExample('beginner-photo-tip')
    const pending = run(
      tip,
      [on('eve', event('Post Created', '2026-01-05T10:00:00Z', { forum: 'photo-beginners' }))],
      {
        start: window.start,
        end: '2026-01-06T00:00:00Z',
      },
    )
    expect(why(tip, pending, 'eve', 'photo-tip-beginners-guide', 'Eve')[0]).toMatch(
      /photo-tip-beginners-guide has not been sent yet: waiting until 2026-01-07 10:00 UTC \(delay 2d\)\.$/,
    )
  })
})
