// How one field value compares with a filter's value. Total: any data, any shape,
// gives true or false, never an exception. The rules (also in docs/conditions.md):
// - null and a missing field are the same: "not exists". Every positive op (eq, gt,
//   contains, in, before, within_last...) is false on a missing field; ne, not_contains,
//   not_in and not_exists are exactly the negation of their positive op, so true.
// - A number equals a numeric string ("42" = 42); true/false equal "true"/"false".
// - Strings compare case-sensitively unless the filter says ignoreCase.
// - gt/gte/lt/lte compare numbers when the filter's value is a number (or numeric text),
//   dates when it is a date; anything else (a boolean, a word, a list) is false.
// - Dates are Date objects or ISO 8601 texts; a text without an offset is UTC, so the
//   result never depends on the server's timezone.
import { parseDuration } from './duration.ts'
import type { CompareOp, FieldFilter } from './types.ts'

export function isPresent(v: unknown): boolean {
  return v !== undefined && v !== null
}

const NUMERIC = /^\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*$/

/** A finite number from a number or a numeric text; null otherwise. */
export function asNumber(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null
  if (typeof v === 'string' && NUMERIC.test(v)) {
    const n = Number(v)
    return Number.isFinite(n) ? n : null
  }
  return null
}

const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$/

/** Milliseconds since the epoch of a Date or an ISO 8601 text (UTC when no offset); null otherwise. */
export function asInstant(v: unknown): number | null {
  if (v instanceof Date) {
    const t = v.getTime()
    return Number.isNaN(t) ? null : t
  }
  if (typeof v !== 'string') return null
  const m = ISO.exec(v.trim())
  if (!m) return null
  const [, y, mo, d, h = '00', mi = '00', s = '00', frac = '', zone = 'Z'] = m
  const year = Number(y)
  const month = Number(mo)
  const day = Number(d)
  // Date.parse rolls 2026-02-30 over to March; a wrong date is not a date.
  const probe = new Date(Date.UTC(year, month - 1, day))
  if (month < 1 || month > 12 || probe.getUTCDate() !== day || probe.getUTCMonth() !== month - 1) return null
  if (Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return null
  let offset = zone.toUpperCase()
  if (offset !== 'Z') {
    const digits = offset.replace(':', '')
    offset = `${digits.slice(0, 3)}:${digits.slice(3, 5) || '00'}`
  }
  const ms = frac.padEnd(3, '0').slice(0, 3)
  const t = Date.parse(`${y}-${mo}-${d}T${h}:${mi}:${s}.${ms}${offset}`)
  return Number.isNaN(t) ? null : t
}

function text(v: string, ignoreCase: boolean): string {
  return ignoreCase ? v.toLowerCase() : v
}

/** Equality across the types data arrives in (see the rules at the top). */
export function valuesEqual(a: unknown, b: unknown, ignoreCase = false): boolean {
  if (!isPresent(a) || !isPresent(b)) return false
  if (a instanceof Date || b instanceof Date) {
    const x = asInstant(a)
    return x !== null && x === asInstant(b)
  }
  if (typeof a === 'number' || typeof b === 'number') {
    const x = asNumber(a)
    return x !== null && x === asNumber(b)
  }
  if (typeof a === 'boolean' || typeof b === 'boolean') {
    const bool = (v: unknown) =>
      typeof v === 'boolean' ? v : v === 'true' ? true : v === 'false' ? false : null
    const x = bool(a)
    return x !== null && x === bool(b)
  }
  if (typeof a === 'string' && typeof b === 'string') return text(a, ignoreCase) === text(b, ignoreCase)
  return false
}

/** Sign of (actual - expected) for gt/gte/lt/lte; null when they cannot be ordered. */
export function order(actual: unknown, expected: unknown): number | null {
  const n = asNumber(expected)
  if (n !== null) {
    const a = typeof actual === 'boolean' ? null : asNumber(actual)
    return a === null ? null : Math.sign(a - n)
  }
  const t = asInstant(expected)
  if (t !== null) {
    const a = asInstant(actual)
    return a === null ? null : Math.sign(a - t)
  }
  return null
}

function contains(actual: unknown, expected: unknown, ignoreCase: boolean): boolean {
  if (Array.isArray(actual)) return actual.some((item) => valuesEqual(item, expected, ignoreCase))
  if (typeof actual === 'string' && ['string', 'number', 'boolean'].includes(typeof expected)) {
    return text(actual, ignoreCase).includes(text(String(expected), ignoreCase))
  }
  return false
}

function inList(actual: unknown, list: unknown, ignoreCase: boolean): boolean {
  if (!Array.isArray(list)) return false
  const items = Array.isArray(actual) ? actual : [actual]
  return items.some((item) => list.some((v) => valuesEqual(item, v, ignoreCase)))
}

/**
 * Where a date lies against a relative window: the window [start, end] for
 * within_last/within_next at `now`, or null when the value or duration is unusable.
 */
export function relativeWindow(op: 'within_last' | 'within_next', duration: unknown, now: Date) {
  const d = parseDuration(duration)
  if (!d.ok) return null
  const t = now.getTime()
  return op === 'within_last' ? { start: t - d.ms, end: t } : { start: t, end: t + d.ms }
}

/** Whether `actual` (a field's value, undefined when missing) passes `op value`. */
export function compareValue(
  actual: unknown,
  op: CompareOp,
  expected: unknown,
  now: Date,
  ignoreCase = false,
): boolean {
  switch (op) {
    case 'exists':
      return isPresent(actual)
    case 'not_exists':
      return !isPresent(actual)
    case 'eq':
      return valuesEqual(actual, expected, ignoreCase)
    case 'ne':
      return !valuesEqual(actual, expected, ignoreCase)
    case 'gt': {
      const o = order(actual, expected)
      return o !== null && o > 0
    }
    case 'gte': {
      const o = order(actual, expected)
      return o !== null && o >= 0
    }
    case 'lt': {
      const o = order(actual, expected)
      return o !== null && o < 0
    }
    case 'lte': {
      const o = order(actual, expected)
      return o !== null && o <= 0
    }
    case 'contains':
      return contains(actual, expected, ignoreCase)
    case 'not_contains':
      return !contains(actual, expected, ignoreCase)
    case 'in':
      return inList(actual, expected, ignoreCase)
    case 'not_in':
      return !inList(actual, expected, ignoreCase)
    case 'before':
    case 'after': {
      const a = asInstant(actual)
      const e = asInstant(expected)
      if (a === null || e === null) return false
      return op === 'before' ? a < e : a > e
    }
    case 'within_last':
    case 'within_next': {
      const a = asInstant(actual)
      const w = relativeWindow(op, expected, now)
      return a !== null && w !== null && a >= w.start && a <= w.end
    }
    default: {
      // An op outside the language (unvalidated input) matches nothing.
      const never: never = op
      void never
      return false
    }
  }
}

export function compareField(actual: unknown, filter: FieldFilter, now: Date): boolean {
  return compareValue(actual, filter.op, filter.value, now, filter.ignoreCase === true)
}
