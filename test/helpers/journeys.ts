// Scenario helpers for journey tests: load an example file, write events at offsets,
// run the simulator with the test evaluator.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { JourneyEvent } from '../../src/domain/journeys/event.ts'
import { formatIssue, parseJourneyDocument } from '../../src/domain/journeys/parse.ts'
import {
  type SimulatedProfile,
  type SimulationEvent,
  type SimulationResult,
  simulate,
} from '../../src/domain/journeys/simulate.ts'
import type { Journey } from '../../src/domain/journeys/types.ts'
import { evaluate } from './journey-conditions.ts'

export function loadExample(name: string): Journey {
  const file = join(import.meta.dirname, '../../examples/journeys', `${name}.yaml`)
  const parsed = parseJourneyDocument(readFileSync(file, 'utf8'), `${name}.yaml`)
  if (!parsed.ok) throw new Error(parsed.errors.map(formatIssue).join('\n'))
  return parsed.journey
}

let seq = 0

export function event(
  name: string,
  at: string | Date,
  properties: Record<string, unknown> = {},
  type = 'track',
): JourneyEvent {
  return {
    id: `evt-${++seq}`,
    type,
    name,
    timestamp: new Date(at),
    properties,
    traits: {},
    context: {},
  }
}

export function identify(at: string | Date, traits: Record<string, unknown>): JourneyEvent {
  return { ...event('identify', at, {}, 'identify'), name: null, traits }
}

export function on(profileId: string, e: JourneyEvent): SimulationEvent {
  return { profileId, event: e }
}

export function run(
  journeys: Journey | Journey[],
  events: SimulationEvent[],
  window: { start: string; end: string },
  profiles: SimulatedProfile[] = [],
): SimulationResult {
  return simulate(Array.isArray(journeys) ? journeys : [journeys], events, {
    start: new Date(window.start),
    end: new Date(window.end),
    profiles,
    evaluate,
  })
}

/** Sends as "profile template at" lines: easy to read in a failing assertion. */
export function sendLines(result: SimulationResult): string[] {
  return result.sends.map((s) => `${s.profileId} ${s.channel}:${s.template} ${s.at.toISOString()}`)
}

/** A journey that branches on the plan trait: pro-tips for pro members, upgrade for the others. */
export const plansJourney: Journey = {
  id: 'plans',
  name: 'Plans',
  trigger: { type: 'event', event: 'Signed Up' },
  entry: { type: 'once' },
  steps: [
    {
      id: 'by-plan',
      type: 'branch',
      paths: [
        {
          name: 'pro',
          when: { type: 'trait', path: 'plan', op: 'eq', value: 'pro' },
          steps: [{ type: 'send', channel: 'email', template: 'pro-tips' }],
        },
      ],
      else: [{ type: 'send', channel: 'email', template: 'upgrade' }],
    },
  ],
}
