// Durations as written in journey files ("30m", "2h", "3d", "1w", "1d12h") and their
// plain-English form. A day is exactly 24 hours: durations are elapsed time, so "3d"
// across a daylight-saving change is still 72 hours (calendar-aware waits belong to
// the journey steps that know the member's timezone).

export const SECOND = 1000
export const MINUTE = 60 * SECOND
export const HOUR = 60 * MINUTE
export const DAY = 24 * HOUR
export const WEEK = 7 * DAY

const UNITS: Readonly<Record<string, number>> = { ms: 1, s: SECOND, m: MINUTE, h: HOUR, d: DAY, w: WEEK }

export type DurationResult =
  | { readonly ok: true; readonly ms: number }
  | { readonly ok: false; readonly message: string }

const HINT = 'is not a duration such as 30m, 2h, 3d, 1w or 1d12h'

/**
 * Parses a duration: a string of number+unit parts (ms, s, m, h, d, w; spaces allowed
 * between parts), or a non-negative integer number of milliseconds. Months and years are
 * refused on purpose: their length varies.
 */
export function parseDuration(input: unknown): DurationResult {
  if (typeof input === 'number') {
    if (Number.isSafeInteger(input) && input >= 0) return { ok: true, ms: input }
    return { ok: false, message: `${input} is not a whole, non-negative number of milliseconds` }
  }
  if (typeof input !== 'string') return { ok: false, message: `${describeInput(input)} ${HINT}` }
  const text = input.trim()
  if (text === '') return { ok: false, message: `an empty text ${HINT}` }
  if (/^\d+$/.test(text)) {
    return {
      ok: false,
      message: `'${input}' has no unit: write ${text}ms, ${text}s, ${text}m, ${text}h or ${text}d`,
    }
  }
  if (text.startsWith('-')) return { ok: false, message: `'${input}' is negative: durations count forward` }
  if (/\d+\s*(mo|months?|y|years?)\b/i.test(text)) {
    return {
      ok: false,
      message: `'${input}': months and years vary in length, write days or weeks (30d, 52w)`,
    }
  }
  const part = /(\d+)\s*(ms|s|m|h|d|w)\s*/y
  let ms = 0
  let at = 0
  while (at < text.length) {
    part.lastIndex = at
    const m = part.exec(text)
    if (!m) return { ok: false, message: `'${input}' ${HINT}` }
    ms += Number(m[1]) * (UNITS[m[2]!] ?? Number.NaN)
    at = part.lastIndex
  }
  if (!Number.isSafeInteger(ms)) return { ok: false, message: `'${input}' is too long` }
  return { ok: true, ms }
}

/** For definitions already validated by the schema: an invalid duration here is a bug. */
export function durationMs(input: string | number): number {
  const r = parseDuration(input)
  if (!r.ok) throw new Error(`Invalid duration: ${r.message}`)
  return r.ms
}

const NAMES: readonly (readonly [number, string])[] = [
  [WEEK, 'week'],
  [DAY, 'day'],
  [HOUR, 'hour'],
  [MINUTE, 'minute'],
  [SECOND, 'second'],
  [1, 'millisecond'],
]

/** 259200000 → "3 days", 129600000 → "1 day 12 hours". Weeks only when exact ("2 weeks", "10 days"). */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return `${ms} ms`
  if (ms === 0) return '0 seconds'
  const parts: string[] = []
  let rest = ms
  for (const [size, name] of NAMES) {
    // "10 days" reads better than "1 week 3 days"
    if (size === WEEK && rest % WEEK !== 0) continue
    const n = Math.floor(rest / size)
    if (n > 0) {
      parts.push(`${n} ${name}${n === 1 ? '' : 's'}`)
      rest -= n * size
    }
  }
  return parts.join(' ')
}

const UNIT_NAMES: Readonly<Record<string, string>> = {
  s: 'second',
  m: 'minute',
  h: 'hour',
  d: 'day',
  w: 'week',
}

/**
 * A duration in words, keeping the units it was written with ("7d" → "7 days", not
 * "1 week"); numbers and millisecond texts go through formatDuration.
 */
export function spellDuration(input: unknown): string {
  const d = parseDuration(input)
  if (!d.ok) return String(input)
  if (typeof input !== 'string' || /ms/.test(input)) return formatDuration(d.ms)
  return [...input.matchAll(/(\d+)\s*([smhdw])/g)]
    .map(([, n, unit]) => `${Number(n)} ${UNIT_NAMES[unit!]}${Number(n) === 1 ? '' : 's'}`)
    .join(' ')
}

function describeInput(input: unknown): string {
  if (input === null) return 'null'
  if (Array.isArray(input)) return 'a list'
  return `a ${typeof input}`
}
