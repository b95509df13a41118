// Does an event start this journey? Event, segment and trait triggers are answered from the
// event (and the traits before it); date and schedule triggers are fired by timers, see
// ./occurrence.ts.
import type { ConditionContext } from '../conditions/types.ts'
import type { JourneyEvent } from './event.ts'
import { type Evaluate, whereCondition } from './match.ts'
import type { Trigger } from './types.ts'

export interface TriggerFacts {
  readonly event: JourneyEvent
  /** Traits before this event was applied (for trait_changed / trait_crossed). */
  readonly previousTraits: Readonly<Record<string, unknown>>
  /** Traits after it. */
  readonly traits: Readonly<Record<string, unknown>>
}

export function matchesTrigger(
  trigger: Trigger,
  facts: TriggerFacts,
  evaluate: Evaluate,
  ctx: ConditionContext,
): boolean {
  const { event } = facts
  switch (trigger.type) {
    case 'event': {
      if (event.name !== trigger.event) return false
      const where = whereCondition(trigger)
      return where === null || evaluate(where, { ...ctx, event })
    }
    case 'segment':
      return (
        event.name === (trigger.on === 'entered' ? 'Segment Entered' : 'Segment Exited') &&
        event.properties['segment'] === trigger.segment
      )
    case 'trait_changed': {
      const before = facts.previousTraits[trigger.trait]
      const after = facts.traits[trigger.trait]
      if (same(before, after)) return false
      if (trigger.from !== undefined && !same(before, trigger.from)) return false
      return trigger.to === undefined || same(after, trigger.to)
    }
    case 'trait_crossed': {
      const before = Number(facts.previousTraits[trigger.trait] ?? Number.NaN)
      const after = Number(facts.traits[trigger.trait] ?? Number.NaN)
      if (Number.isNaN(after)) return false
      const was = Number.isNaN(before) ? null : before
      return trigger.direction === 'down'
        ? after < trigger.threshold && (was === null || was >= trigger.threshold)
        : after >= trigger.threshold && (was === null || was < trigger.threshold)
    }
    case 'date':
    case 'schedule':
      return false
    default: {
      const never: never = trigger
      return never
    }
  }
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b)
}
