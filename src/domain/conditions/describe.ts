// Conditions in plain English, for the UI, `nudge why` and the trace:
// "has not performed Contacts Uploaded in the last 3 days".
import { asInstant, asNumber } from './compare.ts'
import { spellDuration as duration } from './duration.ts'
import { countBounds } from './history.ts'
import type { CompareOp, Condition, FieldFilter } from './types.ts'

/** A value as a reader expects it: texts bare, dates in ISO, lists comma-separated. */
export function formatValue(v: unknown): string {
  if (v === undefined || v === null) return 'nothing'
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? 'an invalid date' : v.toISOString()
  if (typeof v === 'string') return v
  if (typeof v === 'number' || typeof v === 'boolean') return String(v)
  if (Array.isArray(v)) return v.map(formatValue).join(', ')
  return JSON.stringify(v) ?? String(v)
}

function list(v: unknown): string {
  if (!Array.isArray(v)) return formatValue(v)
  const items = v.map(formatValue)
  return items.length <= 1 ? (items[0] ?? 'nothing') : `${items.slice(0, -1).join(', ')} or ${items.at(-1)}`
}

/** "is pro", "is greater than 30", "is within the last 3 days"... */
export function describeOp(op: CompareOp, value: unknown): string {
  const isDate = asNumber(value) === null && asInstant(value) !== null
  switch (op) {
    case 'eq':
      return `is ${formatValue(value)}`
    case 'ne':
      return `is not ${formatValue(value)}`
    case 'gt':
      return isDate ? `is after ${formatValue(value)}` : `is greater than ${formatValue(value)}`
    case 'gte':
      return isDate ? `is on or after ${formatValue(value)}` : `is at least ${formatValue(value)}`
    case 'lt':
      return isDate ? `is before ${formatValue(value)}` : `is less than ${formatValue(value)}`
    case 'lte':
      return isDate ? `is on or before ${formatValue(value)}` : `is at most ${formatValue(value)}`
    case 'contains':
      return `contains ${formatValue(value)}`
    case 'not_contains':
      return `does not contain ${formatValue(value)}`
    case 'exists':
      return 'is set'
    case 'not_exists':
      return 'is not set'
    case 'in':
      return `is ${list(value)}`
    case 'not_in':
      return `is neither ${list(value).replace(/ or ([^,]*)$/, ' nor $1')}`
    case 'before':
      return `is before ${formatValue(value)}`
    case 'after':
      return `is after ${formatValue(value)}`
    case 'within_last':
      return `is within the last ${duration(value)}`
    case 'within_next':
      return `is within the next ${duration(value)}`
    default:
      return `${String(op)} ${formatValue(value)}`
  }
}

export function describeFilter(f: FieldFilter, subject = f.path): string {
  return `${subject} ${describeOp(f.op, f.value)}${f.ignoreCase ? ' (ignoring case)' : ''}`
}

function times(n: number): string {
  return n === 1 ? 'once' : n === 2 ? 'twice' : `${n} times`
}

function describePerformed(c: Extract<Condition, { type: 'performed' }>): string {
  const { min, max } = countBounds(c)
  let how: string
  if (max === 0) how = `has not performed ${c.event}`
  else if (min === max) how = `has performed ${c.event} exactly ${times(min)}`
  else if (!Number.isFinite(max))
    how = min <= 1 ? `has performed ${c.event}` : `has performed ${c.event} at least ${times(min)}`
  else if (min === 0) how = `has performed ${c.event} at most ${times(max)}`
  else how = `has performed ${c.event} between ${min} and ${max} times`
  const where = c.where?.length ? ` where ${c.where.map((f) => describeFilter(f)).join(' and ')}` : ''
  let when = ''
  if (c.within !== undefined) when = ` in the last ${duration(c.within)}`
  else if (c.between !== undefined) when = ` between ${c.between.from} and ${c.between.to}`
  return how + where + when
}

function describeSeen(c: Extract<Condition, { type: 'first_seen' | 'last_seen' }>): string {
  const which = c.type === 'first_seen' ? 'first' : 'last'
  switch (c.op) {
    case 'before':
    case 'after':
      return `was ${which} seen ${c.op} ${formatValue(c.value)}`
    case 'within_last':
      return `was ${which} seen in the last ${duration(c.value)}`
    default:
      return `${which} seen date ${describeOp(c.op, c.value)}`
  }
}

const STAGE_OPS = { eq: 'is', ne: 'is not', gte: 'is at least', lte: 'is at most' } as const

/**
 * One sentence for a condition. Nested groups are parenthesised so "and"/"or" never
 * read ambiguously; an empty all is "always", an empty any "never".
 */
export function describeCondition(cond: Condition): string {
  return describe(cond, true)
}

function describe(cond: Condition, top: boolean): string {
  switch (cond.type) {
    case 'all':
    case 'any': {
      const parts = Array.isArray(cond.conditions) ? cond.conditions : []
      if (parts.length === 0) return cond.type === 'all' ? 'always' : 'never'
      if (parts.length === 1) return describe(parts[0]!, top)
      const joined = parts.map((c) => describe(c, false)).join(cond.type === 'all' ? ' and ' : ' or ')
      return top ? joined : `(${joined})`
    }
    case 'not':
      // not(not(c)) is c, and reads as c
      if (cond.condition.type === 'not') return describe(cond.condition.condition, top)
      return `not (${describe(cond.condition, true)})`
    case 'trait':
      return describeFilter(cond)
    case 'event':
      return describeFilter(cond, `event ${cond.path}`)
    case 'performed':
      return describePerformed(cond)
    case 'first_seen':
    case 'last_seen':
      return describeSeen(cond)
    case 'segment':
      return `${cond.member ? 'is' : 'is not'} in segment ${cond.segment}`
    case 'stage':
      return `stage ${STAGE_OPS[cond.op] ?? cond.op} ${cond.stage}`
    case 'badge':
      return `${cond.has ? 'has' : 'does not have'} badge ${cond.badge}`
    case 'score':
      return `score ${describeOp(cond.op, cond.value)}`
    default: {
      const never: never = cond
      return `unknown condition ${JSON.stringify(never)}`
    }
  }
}
