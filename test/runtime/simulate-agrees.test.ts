// The simulator must say what the real runtime does: the same events go to simulate() and
// to a real processor and scheduler on a fake clock (a world), and both must queue the
// same messages at the same times.
import { afterEach, expect, it } from 'vitest'
import { evaluate } from '../../src/domain/conditions/evaluate.ts'
import { type SimulationEvent, simulate } from '../../src/domain/journeys/simulate.ts'
import { journeyEventOf, STAGES } from '../../src/runtime/journeys/runtime.ts'
import { describeEachDriver } from '../helpers/db.ts'
import { loadExample } from '../helpers/journeys.ts'
import { makeWorld, type World } from '../helpers/world.ts'

/** One thing a member does at a time: a track, or an identify with traits. */
interface Step {
  readonly at: string
  readonly user: string
  readonly event?: string
  readonly properties?: Record<string, unknown>
  readonly traits?: Record<string, unknown>
}

interface Scenario {
  readonly journeys: readonly string[]
  readonly steps: readonly Step[]
  readonly until: string
}

const scenarios: Record<string, Scenario> = {
  'welcome-series (delays, an exit mid-delay)': {
    journeys: ['welcome-series'],
    steps: [
      { at: '2026-03-02T10:00:00Z', user: 'ann', event: 'Signed Up' },
      { at: '2026-03-02T10:00:00Z', user: 'bob', event: 'Signed Up' },
      { at: '2026-03-03T17:45:00Z', user: 'cat', event: 'Signed Up' },
      { at: '2026-03-05T08:00:00Z', user: 'bob', event: 'Unsubscribed' },
      { at: '2026-03-06T09:00:00Z', user: 'ann', event: 'Signed Up' },
    ],
    until: '2026-04-01T00:00:00Z',
  },
  'abandoned-booking (a correlated wait, a goal, two channels)': {
    journeys: ['abandoned-booking'],
    steps: [
      { at: '2026-01-21T08:00:00Z', user: 'ann', event: 'Trip Searched', properties: { trip_id: 'PAR-BRU' } },
      { at: '2026-01-21T08:00:00Z', user: 'bob', event: 'Trip Searched', properties: { trip_id: 'T1' } },
      { at: '2026-01-21T08:00:00Z', user: 'cat', event: 'Trip Searched', properties: { trip_id: 'T1' } },
      { at: '2026-01-21T08:10:00Z', user: 'cat', event: 'Booking Completed', properties: { trip_id: 'T2' } },
      { at: '2026-01-21T08:29:00Z', user: 'bob', event: 'Booking Completed', properties: { trip_id: 'T1' } },
      { at: '2026-01-21T08:30:00Z', user: 'ann', event: 'Trip Searched', properties: { trip_id: 'LYS' } },
    ],
    until: '2026-01-22T00:00:00Z',
  },
  'beginner-photo-tip and feedback-ask (history conditions, member timezones)': {
    journeys: ['beginner-photo-tip', 'feedback-ask'],
    steps: [
      {
        at: '2026-05-01T12:00:00Z',
        user: 'dan',
        event: 'Guide Purchased',
        properties: { guide: 'beginners' },
      },
      { at: '2026-05-01T12:00:00Z', user: 'eve', traits: { timezone: 'Asia/Tokyo' } },
      {
        at: '2026-05-04T18:30:00Z',
        user: 'ann',
        event: 'Post Created',
        properties: { forum: 'photo-beginners' },
      },
      {
        at: '2026-05-04T18:30:00Z',
        user: 'dan',
        event: 'Post Created',
        properties: { forum: 'photo-beginners' },
      },
      { at: '2026-05-04T18:30:00Z', user: 'eve', event: 'Signed Up' },
      { at: '2026-05-04T18:30:00Z', user: 'ann', event: 'Signed Up' },
      {
        at: '2026-05-05T12:00:00Z',
        user: 'cat',
        event: 'Post Created',
        properties: { forum: 'photo-beginners' },
      },
      {
        at: '2026-05-06T12:00:00Z',
        user: 'cat',
        event: 'Guide Purchased',
        properties: { guide: 'beginners' },
      },
    ],
    until: '2026-06-01T00:00:00Z',
  },
}

/** Sends as "time user channel:template", in one order for both sides. */
const lines = (sends: readonly { at: string; user: string; what: string }[]) =>
  sends.map((s) => `${s.at} ${s.user} ${s.what}`).sort()

let seq = 0

function asLogged(step: Step): SimulationEvent {
  const type = step.event ? 'track' : 'identify'
  const payload = step.event
    ? { type, userId: step.user, event: step.event, properties: step.properties ?? {} }
    : { type, userId: step.user, traits: step.traits ?? {} }
  const event = journeyEventOf({
    type,
    name: step.event ?? null,
    timestamp: new Date(step.at),
    payload,
    messageId: `sim-${++seq}`,
  })
  return { profileId: step.user, event }
}

describeEachDriver('simulate() agrees with the runtime', (driver) => {
  let world: World
  afterEach(() => world.close())

  for (const [name, scenario] of Object.entries(scenarios)) {
    it(name, async () => {
      const first = scenario.steps[0]!.at
      world = await makeWorld(driver, first)
      await world.publish(...scenario.journeys)
      for (const step of scenario.steps) {
        await world.runUntil(step.at)
        if (step.event) await world.track(step.user, step.event, step.properties)
        else await world.identify(step.user, step.traits ?? {})
      }
      await world.runUntil(scenario.until)
      const real = (await world.sends()).map((l) => {
        const [user, what, at] = l.split(' ') as [string, string, string]
        return { at, user, what }
      })

      const result = simulate(scenario.journeys.map(loadExample), scenario.steps.map(asLogged), {
        start: new Date(first),
        end: new Date(scenario.until),
        evaluate,
        stages: STAGES,
      })
      const simulated = result.sends.map((s) => ({
        at: s.at.toISOString(),
        user: s.profileId,
        what: `${s.channel}:${s.template}`,
      }))
      expect(real.length).toBeGreaterThan(1)
      expect(lines(simulated)).toEqual(lines(real))
    })
  }
})
