// Why a condition was true or false, for the trace and `nudge why`: every
// sub-condition with its result and the fact it saw, and a short reason naming only
// the facts that decided ("branch taken because plan = pro").
import { describeCondition, formatValue } from './describe.ts'
import { spellDuration } from './duration.ts'
import { observe } from './evaluate.ts'
import type { Condition, ConditionContext } from './types.ts'

export interface Explanation {
  readonly condition: Condition
  readonly result: boolean
  /** The condition in words: "plan is pro". */
  readonly text: string
  /** What was seen: "plan = free", "performed Contacts Uploaded 0 times in the last 3 days". */
  readonly seen: string
  readonly children: readonly Explanation[]
}

export function explain(cond: Condition, ctx: ConditionContext): Explanation {
  const text = describeCondition(cond)
  switch (cond.type) {
    case 'all':
    case 'any': {
      const children = (Array.isArray(cond.conditions) ? cond.conditions : []).map((c) => explain(c, ctx))
      const result = cond.type === 'all' ? children.every((c) => c.result) : children.some((c) => c.result)
      return { condition: cond, result, text, seen: children.length ? '' : 'no conditions', children }
    }
    case 'not': {
      const child = explain(cond.condition, ctx)
      return { condition: cond, result: !child.result, text, seen: '', children: [child] }
    }
    default: {
      const { result, observed } = observe(cond, ctx)
      return { condition: cond, result, text, seen: seenFact(cond, observed), children: [] }
    }
  }
}

function seenFact(cond: Condition, observed: unknown): string {
  const missing = observed === undefined || observed === null
  switch (cond.type) {
    case 'trait':
      return missing ? `${cond.path} is not set` : `${cond.path} = ${formatValue(observed)}`
    case 'event':
      return missing ? `event ${cond.path} is not set` : `event ${cond.path} = ${formatValue(observed)}`
    case 'performed': {
      let when = ''
      if (cond.within !== undefined) {
        when = ` in the last ${spellDuration(cond.within)}`
      } else if (cond.between) when = ` between ${cond.between.from} and ${cond.between.to}`
      if (typeof observed !== 'number') return `${cond.event}: the window is invalid`
      const n = observed === 1 ? 'once' : `${observed} times`
      return `performed ${cond.event} ${n}${when}`
    }
    case 'first_seen':
    case 'last_seen': {
      const which = cond.type === 'first_seen' ? 'first' : 'last'
      return missing ? `never ${which} seen` : `${which} seen at ${formatValue(observed)}`
    }
    case 'segment':
      return `${observed ? 'is' : 'is not'} in segment ${cond.segment}`
    case 'badge':
      return `${observed ? 'has' : 'does not have'} badge ${cond.badge}`
    case 'stage':
      return missing ? 'has no stage' : `stage = ${formatValue(observed)}`
    case 'score':
      return `score = ${typeof observed === 'number' ? Math.round(observed * 100) / 100 : formatValue(observed)}`
    default:
      return ''
  }
}

/**
 * The facts that decided the result, and only those: a true `all` needs every child, a
 * false one its first false child; a true `any` its first true child, a false one every
 * child. `not` is decided by the same facts as its child.
 */
export function reason(e: Explanation): string {
  const c = e.condition
  if (c.type !== 'all' && c.type !== 'any' && c.type !== 'not') return e.seen
  if (c.type === 'not') return e.children[0] ? reason(e.children[0]) : ''
  if (e.children.length === 0) return e.seen
  const wantAll = (c.type === 'all') === e.result
  const deciding = wantAll ? e.children : e.children.filter((child) => child.result === e.result).slice(0, 1)
  return unique(deciding.map(reason)).join(' and ')
}

function unique(xs: string[]): string[] {
  return [...new Set(xs.filter((x) => x !== ''))]
}

/** Explains and gives the reason in one go: `{ result: true, reason: 'plan = pro' }`. */
export function why(
  cond: Condition,
  ctx: ConditionContext,
): { readonly result: boolean; readonly reason: string } {
  const e = explain(cond, ctx)
  return { result: e.result, reason: reason(e) }
}
