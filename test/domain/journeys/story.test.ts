import { describe, expect, it } from 'vitest'
import type { SimulationResult } from '../../../src/domain/journeys/simulate.ts'
import { durationInWords, tellNeverEntered, tellRun } from '../../../src/domain/journeys/story.ts'
import type { Journey } from '../../../src/domain/journeys/types.ts'
import { event, loadExample, on, plansJourney, run } from '../../helpers/journeys.ts'

const window = { start: '2026-01-01T00:00:00Z', end: '2027-03-01T00:00:00Z' }

function story(journey: Journey, result: SimulationResult, profileId: string, timezone?: string) {
  return result.runs
    .filter((r) => r.profileId === profileId)
    .map((r) => tellRun(journey, r, result.trace, { who: profileId, timezone: timezone ?? null }))
}

describe('tellRun', () => {
  const booking = loadExample('abandoned-booking')

  it('tells a wait answered by the goal, in the member timezone', () => {
    const result = run(
      booking,
      [
        on('Bob', event('Trip Searched', '2026-01-21T08:00:00Z', { trip_id: 'T1' })),
        on('Bob', event('Booking Completed', '2026-01-21T08:10:00Z', { trip_id: 'T1' })),
      ],
      window,
    )
    expect(story(booking, result, 'Bob', 'Europe/Paris')).toEqual([
      'Bob entered Abandoned booking on 21 January 2026 at 09:00 because of Trip Searched; ' +
        'waited for Booking Completed (up to 30 minutes); converted at 09:10: goal Booking Completed (same properties.trip_id) reached.',
    ])
  })

  it('tells the branch taken and where a run in flight stands, with the year when it changes', () => {
    const journey: Journey = {
      ...plansJourney,
      steps: [
        ...plansJourney.steps,
        { id: 'later', type: 'delay', for: '1d12h' },
        { type: 'send', channel: 'email', template: 'follow-up' },
        { id: 'next-year', type: 'delay', for: '30d' },
        { type: 'send', channel: 'email', template: 'anniversary' },
      ],
    }
    const result = run(journey, [on('Cat', event('Signed Up', '2026-12-20T10:00:00Z'))], {
      start: window.start,
      end: '2027-01-05T00:00:00Z',
    })
    expect(story(journey, result, 'Cat')).toEqual([
      "Cat entered Plans on 20 December 2026 at 10:00 because of Signed Up; went the 'else' way " +
        "(no path matched among 'pro' (plan = pro)); got upgrade by email at 10:00; waited 1 day 12 hours; " +
        'got follow-up by email on 21 December at 22:00; is now at step next-year until 20 January 2027 at 22:00.',
    ])
  })
})

describe('tellNeverEntered', () => {
  const tip = loadExample('beginner-photo-tip')
  const opts = { who: 'Ann', timezone: 'UTC' }
  const applied = new Date('2026-02-01T00:00:00Z')

  it('says the trigger event was never seen, or never as the trigger asks', () => {
    expect(
      tellNeverEntered({ journey: tip, skipped: [], triggerEvents: { count: 0, lastAt: null } }, opts),
    ).toEqual([
      'Ann never entered Beginner photo tip.',
      'Ann never did Post Created, the event that starts it.',
    ])
    const last = new Date('2026-03-04T18:30:00Z')
    expect(
      tellNeverEntered(
        { journey: tip, skipped: [], triggerEvents: { count: 3, lastAt: last }, appliedAt: applied },
        opts,
      )[1],
    ).toBe(
      'Ann did Post Created 3 times, last on 4 March 2026 at 18:30, but never as the trigger asks: Post Created (properties.forum = photo-beginners).',
    )
  })

  it('says the event came before the journey existed, or that the trigger is not an event', () => {
    const early = new Date('2026-01-10T08:00:00Z')
    expect(
      tellNeverEntered(
        { journey: tip, skipped: [], triggerEvents: { count: 1, lastAt: early }, appliedAt: applied },
        opts,
      )[1],
    ).toBe(
      'Ann did Post Created once, last on 10 January 2026 at 08:00, before the journey existed (1 February at 00:00).',
    )
    const renewal: Journey = { ...tip, trigger: { type: 'date', trait: 'renewal_at', offset: '-7d' } }
    expect(tellNeverEntered({ journey: renewal, skipped: [] }, opts)[1]).toBe(
      'Its trigger (the date renewal_at -7d) never matched for Ann.',
    )
  })

  it('puts skipped entries first, with the entry rule in words', () => {
    const rules = loadExample('rules-reminder')
    const comment = (at: string, id: string) =>
      event('Moderation Comment Received', at, { comment: 'read-the-rules', comment_id: id })
    const result = run(
      rules,
      [on('dan', comment('2026-01-05T10:00:00Z', 'c1')), on('dan', comment('2026-01-06T10:00:00Z', 'c2'))],
      window,
    )
    const skipped = result.trace.filter((t) => t.kind === 'skipped')
    expect(tellNeverEntered({ journey: rules, skipped }, { who: 'Dan' })).toEqual([
      'Dan never entered Rules reminder.',
      'On 6 January 2026 at 10:00 the entry was skipped: at most 1 per 7d, last entered on 2026-01-05T10:00:00.000Z.',
    ])
  })
})

it('durationInWords writes journey durations the way people say them', () => {
  expect(['30m', '1d', '2d', '1d12h', '1w'].map(durationInWords)).toEqual([
    '30 minutes',
    '1 day',
    '2 days',
    '1 day 12 hours',
    '1 week',
  ])
})
