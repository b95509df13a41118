// The past-event side of conditions: which history questions a condition asks (so the
// runtime can prefetch them in one go), the exact matching rules those questions follow,
// and two EventHistory implementations: over an in-memory list (simulator, tests) and
// over prefetched answers (runtime).
import { asInstant, compareField } from './compare.ts'
import { parseDuration } from './duration.ts'
import { eventValue } from './paths.ts'
import type { Condition, EventFacts, EventHistory, EventTimes, FieldFilter, HistoryQuery } from './types.ts'

export type PerformedCondition = Extract<Condition, { type: 'performed' }>

/**
 * The question a `performed` condition asks at `now`: `within: W` is the window
 * [now - W, now]; `between` is [from, to]; neither is all time. Null when the window is
 * unusable (an invalid duration or date in unvalidated input), which evaluates as false.
 */
export function performedQuery(cond: PerformedCondition, now: Date): HistoryQuery | null {
  const where = cond.where ?? []
  if (cond.within !== undefined) {
    const d = parseDuration(cond.within)
    if (!d.ok) return null
    return { event: cond.event, where, from: new Date(now.getTime() - d.ms), to: now }
  }
  if (cond.between !== undefined) {
    const from = asInstant(cond.between.from)
    const to = asInstant(cond.between.to)
    if (from === null || to === null) return null
    return { event: cond.event, where, from: new Date(from), to: new Date(to) }
  }
  return { event: cond.event, where, from: null, to: null }
}

/** min/max of a performed condition; neither given means "at least once". */
export function countBounds(cond: PerformedCondition): { readonly min: number; readonly max: number } {
  if (cond.min === undefined && cond.max === undefined) return { min: 1, max: Number.POSITIVE_INFINITY }
  return { min: cond.min ?? 0, max: cond.max ?? Number.POSITIVE_INFINITY }
}

/** Every history query `cond` asks at `now`, without duplicates (see historyKey). */
export function historyQueries(cond: Condition, now: Date): HistoryQuery[] {
  const out = new Map<string, HistoryQuery>()
  const visit = (c: Condition): void => {
    switch (c.type) {
      case 'all':
      case 'any':
        for (const child of c.conditions) visit(child)
        return
      case 'not':
        visit(c.condition)
        return
      case 'performed': {
        const q = performedQuery(c, now)
        if (q) out.set(historyKey(q), q)
        return
      }
      default:
        return
    }
  }
  visit(cond)
  return [...out.values()]
}

/** A stable text key for a query: two equal questions have the same key. */
export function historyKey(q: HistoryQuery): string {
  return JSON.stringify([q.event, q.from?.toISOString() ?? null, q.to?.toISOString() ?? null, q.where])
}

/**
 * Whether a past event answers a query. `where` filters use the same rules as event
 * conditions; their relative ops (within_last/within_next) are refused by the schema,
 * so the event's own time stands in for "now".
 */
export function matchesQuery(event: EventFacts, q: HistoryQuery): boolean {
  if (event.name !== q.event) return false
  const t = event.timestamp.getTime()
  if (q.from !== null && t < q.from.getTime()) return false
  if (q.to !== null && t > q.to.getTime()) return false
  return matchesFilters(event, q.where)
}

export function matchesFilters(event: EventFacts, where: readonly FieldFilter[]): boolean {
  return where.every((f) => compareField(eventValue(event, f.path), f, event.timestamp))
}

/** An EventHistory over a list of past events (any order). */
export function memoryHistory(events: readonly EventFacts[]): EventHistory & EventTimes {
  const newestFirst = [...events].sort((a, b) => b.timestamp.getTime() - a.timestamp.getTime())
  return {
    count: (q) => newestFirst.reduce((n, e) => (matchesQuery(e, q) ? n + 1 : n), 0),
    times: (q, limit) => {
      const out: Date[] = []
      for (const e of newestFirst) {
        if (out.length >= limit) break
        if (matchesQuery(e, q)) out.push(e.timestamp)
      }
      return out
    },
  }
}

/** Answers the runtime fetched beforehand, keyed by historyKey. */
export interface PrefetchedAnswers {
  readonly counts: ReadonlyMap<string, number>
  readonly times?: ReadonlyMap<string, readonly Date[]>
}

/**
 * An EventHistory over prefetched answers. Asking a question that was not prefetched
 * is a bug in the caller (historyQueries/recheckQueries list them all), so it throws.
 */
export function prefetchedHistory(answers: PrefetchedAnswers): EventHistory & EventTimes {
  return {
    count: (q) => {
      const n = answers.counts.get(historyKey(q))
      if (n === undefined) throw new Error(`History not prefetched: ${historyKey(q)}`)
      return n
    },
    times: (q, limit) => {
      const t = answers.times?.get(historyKey(q))
      if (t === undefined) throw new Error(`Event times not prefetched: ${historyKey(q)}`)
      return t.slice(0, limit)
    },
  }
}
