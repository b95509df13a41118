// Conditions, event matches and triggers in words, for the trace and for "why".
import type { CompareOp, Condition, FieldFilter } from '../conditions/types.ts'
import type { Correlation, Criterion, EventMatch, Trigger } from './types.ts'
import { isEventCriterion } from './types.ts'

const OPS: Record<CompareOp, string> = {
  eq: '=',
  ne: '≠',
  gt: '>',
  gte: '≥',
  lt: '<',
  lte: '≤',
  contains: 'contains',
  not_contains: 'does not contain',
  exists: 'is set',
  not_exists: 'is not set',
  in: 'is one of',
  not_in: 'is none of',
  before: 'is before',
  after: 'is after',
  within_last: 'is within the last',
  within_next: 'is within the next',
}

function show(value: unknown): string {
  if (Array.isArray(value)) return value.map(show).join(', ')
  if (typeof value === 'string') return value
  return JSON.stringify(value)
}

export function describeFilter(f: FieldFilter): string {
  const op = OPS[f.op]
  return f.op === 'exists' || f.op === 'not_exists' ? `${f.path} ${op}` : `${f.path} ${op} ${show(f.value)}`
}

function times(n: number): string {
  return n === 1 ? 'once' : `${n} times`
}

export function describeCondition(c: Condition): string {
  switch (c.type) {
    case 'all':
      return c.conditions.map(nested).join(' and ') || 'always'
    case 'any':
      return c.conditions.map(nested).join(' or ') || 'never'
    case 'not':
      return `not (${describeCondition(c.condition)})`
    case 'trait':
      return describeFilter(c)
    case 'event':
      return `event ${describeFilter(c)}`
    case 'performed': {
      const what = c.where?.length ? `${c.event} (${c.where.map(describeFilter).join(', ')})` : c.event
      const when = c.within
        ? ` within ${c.within}`
        : c.between
          ? ` between ${c.between.from} and ${c.between.to}`
          : ''
      if (c.max === 0) return `has not performed ${what}${when}`
      const count =
        c.min !== undefined && c.max !== undefined
          ? c.min === c.max
            ? `exactly ${times(c.min)}`
            : `${c.min} to ${c.max} times`
          : c.max !== undefined
            ? `at most ${times(c.max)}`
            : `at least ${times(c.min ?? 1)}`
      return `performed ${what} ${count}${when}`
    }
    case 'first_seen':
    case 'last_seen':
      return `${c.type.replace('_', ' ')} ${OPS[c.op]} ${show(c.value)}`
    case 'segment':
      return `${c.member ? 'is' : 'is not'} in segment ${c.segment}`
    case 'stage':
      return `stage ${OPS[c.op]} ${c.stage}`
    case 'badge':
      return `${c.has ? 'has' : 'does not have'} badge ${c.badge}`
    case 'score':
      return `score ${OPS[c.op]} ${c.value}`
    default: {
      const never: never = c
      return never
    }
  }
}

function nested(c: Condition): string {
  return c.type === 'all' || c.type === 'any' ? `(${describeCondition(c)})` : describeCondition(c)
}

export function describeCorrelation(c: Correlation): string {
  return typeof c === 'string' ? `same ${c}` : `${c.event} = trigger's ${c.trigger}`
}

export function describeMatch(m: EventMatch): string {
  const parts = [
    ...(m.where ?? []).map(describeFilter),
    ...(m.correlate ? [describeCorrelation(m.correlate)] : []),
  ]
  return parts.length ? `${m.event} (${parts.join(', ')})` : m.event
}

export function describeCriterion(c: Criterion): string {
  return isEventCriterion(c) ? describeMatch(c) : describeCondition(c.condition)
}

export function describeTrigger(t: Trigger): string {
  switch (t.type) {
    case 'event':
      return t.where?.length ? `${t.event} (${t.where.map(describeFilter).join(', ')})` : t.event
    case 'segment':
      return `${t.on} segment ${t.segment}`
    case 'trait_changed':
      return `trait ${t.trait} changed${t.from !== undefined ? ` from ${show(t.from)}` : ''}${t.to !== undefined ? ` to ${show(t.to)}` : ''}`
    case 'trait_crossed':
      return `trait ${t.trait} went ${t.direction === 'down' ? 'below' : 'to or above'} ${t.threshold}`
    case 'date':
      return `the date ${t.trait}${t.offset ? ` ${t.offset}` : ''}${t.repeat ? ' (every year)' : ''}`
    case 'schedule':
      return `the schedule ${t.cron}`
    default: {
      const never: never = t
      return never
    }
  }
}
