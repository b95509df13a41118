// The one evaluator of conditions: pure (its only inputs are the condition and the
// context, time included) and total (data of any shape gives true or false). The
// comparison rules are in compare.ts; the history rules in history.ts.
import { compareField, compareValue } from './compare.ts'
import { countBounds, performedQuery } from './history.ts'
import { eventValue, resolvePath } from './paths.ts'
import type { Condition, ConditionContext } from './types.ts'

/** A leaf's result and what it looked at (a trait's value, a count...), for explanations. */
export interface Observation {
  readonly result: boolean
  /** The value the leaf compared: undefined when missing. */
  readonly observed: unknown
}

export function evaluate(cond: Condition, ctx: ConditionContext): boolean {
  switch (cond.type) {
    case 'all':
      return children(cond.conditions).every((c) => evaluate(c, ctx))
    case 'any':
      return children(cond.conditions).some((c) => evaluate(c, ctx))
    case 'not':
      return !evaluate(cond.condition, ctx)
    default:
      return observe(cond, ctx).result
  }
}

/** Evaluates a leaf condition (anything but all/any/not) and says what it saw. */
export function observe(cond: Condition, ctx: ConditionContext): Observation {
  const { profile, now } = ctx
  switch (cond.type) {
    case 'all':
    case 'any':
    case 'not':
      return { result: evaluate(cond, ctx), observed: undefined }
    case 'trait': {
      const observed = resolvePath(profile.traits, cond.path)
      return { result: compareField(observed, cond, now), observed }
    }
    case 'event': {
      // Outside an event (a timer, a segment re-check) there is no event: every field is missing.
      const observed = ctx.event ? eventValue(ctx.event, cond.path) : undefined
      return { result: compareField(observed, cond, now), observed }
    }
    case 'performed': {
      const q = performedQuery(cond, now)
      if (q === null) return { result: false, observed: undefined }
      const count = ctx.history.count(q)
      const { min, max } = countBounds(cond)
      return { result: count >= min && count <= max, observed: count }
    }
    case 'first_seen':
    case 'last_seen': {
      const observed = cond.type === 'first_seen' ? profile.firstSeenAt : profile.lastSeenAt
      return { result: compareValue(observed, cond.op, cond.value, now), observed }
    }
    case 'segment': {
      const observed = profile.segments.has(cond.segment)
      return { result: observed === cond.member, observed }
    }
    case 'badge': {
      const observed = profile.badges.has(cond.badge)
      return { result: observed === cond.has, observed }
    }
    case 'stage':
      return { result: stageMatches(cond.op, profile.stage, cond.stage, ctx.stages), observed: profile.stage }
    case 'score':
      return { result: compareValue(profile.score, cond.op, cond.value, now), observed: profile.score }
    default: {
      const never: never = cond
      void never
      return { result: false, observed: undefined }
    }
  }
}

/**
 * eq/ne compare names; gte/lte compare positions in the funnel order. A member with no
 * stage, or a stage missing from the order, is neither at least nor at most anything.
 */
export function stageMatches(
  op: 'eq' | 'ne' | 'gte' | 'lte',
  actual: string | null,
  expected: string,
  stages: readonly string[],
): boolean {
  if (op === 'eq') return actual === expected
  if (op === 'ne') return actual !== expected
  if (actual === null) return false
  const a = stages.indexOf(actual)
  const e = stages.indexOf(expected)
  if (a < 0 || e < 0) return false
  return op === 'gte' ? a >= e : a <= e
}

function children(list: readonly Condition[]): readonly Condition[] {
  return Array.isArray(list) ? list : []
}
