// Whether an event matches an EventMatch: its name, its filters (through the injected
// condition evaluator) and its correlation with the run's trigger event.
import type { Condition, ConditionContext, EventFacts } from '../conditions/types.ts'
import { type JourneyEvent, valueAt } from './event.ts'
import type { Correlation, EventMatch } from './types.ts'

export type Evaluate = (condition: Condition, ctx: ConditionContext) => boolean

/** Paths on the trigger event and on the awaited event. */
export function correlationPaths(c: Correlation): { trigger: string; event: string } {
  return typeof c === 'string' ? { trigger: c, event: c } : c
}

/** The value an awaited event must carry, read from the trigger event (undefined: any). */
export function correlationValue(c: Correlation | undefined, trigger: EventFacts): unknown {
  return c === undefined ? undefined : valueAt(trigger, correlationPaths(c).trigger)
}

export function whereCondition(m: { readonly where?: EventMatch['where'] }): Condition | null {
  if (!m.where?.length) return null
  return { type: 'all', conditions: m.where.map((f) => ({ type: 'event', ...f })) }
}

/**
 * `expected` is the correlation value captured from the trigger event; undefined means the
 * trigger event had none, and then any event of that name and filters matches.
 */
export function matchesEvent(
  m: EventMatch,
  event: JourneyEvent,
  expected: unknown,
  evaluate: Evaluate,
  ctx: ConditionContext,
): boolean {
  if (event.name !== m.event) return false
  const where = whereCondition(m)
  if (where && !evaluate(where, { ...ctx, event })) return false
  if (m.correlate !== undefined && expected !== undefined) {
    return sameValue(valueAt(event, correlationPaths(m.correlate).event), expected)
  }
  return true
}

function sameValue(a: unknown, b: unknown): boolean {
  // Ids arrive as numbers from one source and strings from another.
  if ((typeof a === 'number' || typeof a === 'string') && (typeof b === 'number' || typeof b === 'string')) {
    return String(a) === String(b)
  }
  return JSON.stringify(a) === JSON.stringify(b)
}
