// When may a condition's value change with no new event? Time alone moves it when a
// `within` window slides past an event, when a date trait enters or leaves a
// within_last/within_next window (first/last seen too), or when a decaying score crosses
// a threshold. The runtime schedules one timer at that time instead of polling everyone.
//
// The answer is the earliest time at which any leaf may change: a combination (all,
// any, not) can only change when a leaf does, so it is never late; it may be early (the
// leaf changes but the whole does not), and then re-checking simply asks again.
import { asInstant, relativeWindow } from './compare.ts'
import { countBounds, type PerformedCondition, performedQuery } from './history.ts'
import { eventValue, resolvePath } from './paths.ts'
import type { Condition, ConditionContext, EventTimes, HistoryQuery } from './types.ts'

export interface RecheckFacts {
  /** Times of matching past events (see recheckQueries); defaults to ctx.history when it has them. */
  readonly times?: EventTimes
  /** The score's half-life: a decaying score crosses a threshold at a known time. */
  readonly scoreHalfLifeMs?: number
}

/** A times question the runtime must prefetch for nextRecheckAt: the newest `limit` matches. */
export interface TimesQuery {
  readonly query: HistoryQuery
  readonly limit: number
}

/**
 * How many of the newest matching events decide when the count next crosses a bound:
 * the (max+1)-th newest leaving the window brings the count down to max, the min-th
 * newest leaving brings it under min.
 */
function timesNeeded(cond: PerformedCondition): number {
  const { min, max } = countBounds(cond)
  return Math.max(min, Number.isFinite(max) ? max + 1 : 0)
}

/** The times questions of every `within` performed leaf of `cond` at `now`. */
export function recheckQueries(cond: Condition, now: Date): TimesQuery[] {
  const out: TimesQuery[] = []
  for (const leaf of leaves(cond)) {
    if (leaf.type !== 'performed' || leaf.within === undefined) continue
    const query = performedQuery(leaf, now)
    const limit = timesNeeded(leaf)
    if (query && limit > 0) out.push({ query, limit })
  }
  return out
}

/** The earliest time after ctx.now at which `cond` may change without a new event, or null. */
export function nextRecheckAt(cond: Condition, ctx: ConditionContext, facts: RecheckFacts = {}): Date | null {
  let best: number | null = null
  for (const leaf of leaves(cond)) {
    const t = leafChange(leaf, ctx, facts)
    if (t !== null && t > ctx.now.getTime() && (best === null || t < best)) best = t
  }
  return best === null ? null : new Date(best)
}

function leaves(cond: Condition): Condition[] {
  switch (cond.type) {
    case 'all':
    case 'any':
      return (Array.isArray(cond.conditions) ? cond.conditions : []).flatMap(leaves)
    case 'not':
      return leaves(cond.condition)
    default:
      return [cond]
  }
}

function leafChange(leaf: Condition, ctx: ConditionContext, facts: RecheckFacts): number | null {
  switch (leaf.type) {
    case 'trait':
      return dateWindowChange(resolvePath(ctx.profile.traits, leaf.path), leaf.op, leaf.value, ctx.now)
    case 'event':
      return ctx.event
        ? dateWindowChange(eventValue(ctx.event, leaf.path), leaf.op, leaf.value, ctx.now)
        : null
    case 'first_seen':
      return dateWindowChange(ctx.profile.firstSeenAt, leaf.op, leaf.value, ctx.now)
    case 'last_seen':
      return dateWindowChange(ctx.profile.lastSeenAt, leaf.op, leaf.value, ctx.now)
    case 'performed':
      return leaf.within === undefined ? null : windowSlide(leaf, ctx, facts)
    case 'score':
      return facts.scoreHalfLifeMs === undefined
        ? null
        : scoreCrossing(ctx.profile.score, leaf.op, leaf.value, facts.scoreHalfLifeMs, ctx.now.getTime())
    default:
      return null
  }
}

/**
 * A date in a relative window is true for `now` in [a, a + D] (within_last) or
 * [a - D, a] (within_next): it changes when now enters that span, or just after it leaves.
 */
function dateWindowChange(actual: unknown, op: string, value: unknown, now: Date): number | null {
  if (op !== 'within_last' && op !== 'within_next') return null
  const a = asInstant(actual)
  const w = relativeWindow(op, value, new Date(0))
  if (a === null || w === null) return null
  const span = w.end - w.start
  const [start, end] = op === 'within_last' ? [a, a + span] : [a - span, a]
  const t = now.getTime()
  if (t < start) return start
  if (t <= end) return end + 1
  return null
}

/**
 * Without new events the count in [now - W, now] only falls: the k-th newest event
 * leaves the window at its time + W + 1 ms. The value changes when the count falls to
 * max (if above it) or below min (if at or above it).
 */
function windowSlide(leaf: PerformedCondition, ctx: ConditionContext, facts: RecheckFacts): number | null {
  const q = performedQuery(leaf, ctx.now)
  if (q === null) return null
  const limit = timesNeeded(leaf)
  if (limit === 0) return null
  const source = facts.times ?? (hasTimes(ctx.history) ? ctx.history : null)
  if (source === null) throw new Error('nextRecheckAt needs event times for performed conditions with within')
  const { min, max } = countBounds(leaf)
  if (min > max) return null // never true (the schema refuses it), so never changes
  const count = ctx.history.count(q)
  const times = source.times(q, limit)
  const leaves = (k: number) => {
    const e = times[k - 1]
    return e === undefined ? null : e.getTime() + (ctx.now.getTime() - q.from!.getTime()) + 1
  }
  if (count > max) return leaves(max + 1)
  if (count >= min && min > 0) return leaves(min)
  return null
}

function hasTimes(h: object): h is EventTimes {
  return typeof (h as Partial<EventTimes>).times === 'function'
}

/**
 * score(t) = s0 · 2^(-(t - now) / halfLife) moves towards 0 and reaches v after
 * halfLife · log2(s0 / v). gt/lte flip when the score reaches v, gte/lt just after it passes v.
 */
function scoreCrossing(s0: number, op: string, v: number, halfLife: number, now: number): number | null {
  if (!(halfLife > 0) || !Number.isFinite(s0) || !Number.isFinite(v) || s0 === 0 || v === 0) return null
  if (Math.sign(s0) !== Math.sign(v) || Math.abs(v) > Math.abs(s0)) return null
  const dt = halfLife * Math.log2(s0 / v)
  const reachingFlips = s0 > 0 ? op === 'gt' || op === 'lte' : op === 'gte' || op === 'lt'
  if (reachingFlips) return v === s0 ? null : now + Math.max(1, Math.ceil(dt))
  return now + Math.floor(dt) + 1
}
