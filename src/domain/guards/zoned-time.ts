// Wall-clock time in an IANA timezone, computed with Intl (the ICU timezone database
// Node ships), without a date library. DST rules:
// - a wall time that does not exist (spring-forward gap) resolves to the first instant
//   after the gap, i.e. the moment the clocks jump;
// - a wall time that exists twice (fall-back overlap) resolves to the earliest occurrence
//   that is not before `notBefore`.

export interface WallClock {
  readonly year: number
  readonly month: number // 1-12
  readonly day: number
  readonly hour: number
  readonly minute: number
  readonly second: number
  /** Seconds since local midnight (0 … 86399). */
  readonly secondOfDay: number
  /** The wall clock read as if it were UTC, in ms: handy for date arithmetic. */
  readonly wallMs: number
}

const formatters = new Map<string, Intl.DateTimeFormat | null>()

function formatter(timeZone: string): Intl.DateTimeFormat | null {
  let f = formatters.get(timeZone)
  if (f === undefined) {
    try {
      f = new Intl.DateTimeFormat('en-US', {
        timeZone,
        hourCycle: 'h23',
        era: 'short',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      })
    } catch {
      f = null
    }
    formatters.set(timeZone, f)
  }
  return f
}

/** Whether Intl knows this IANA timezone name ("Europe/Paris", "UTC", …). */
export function isValidTimeZone(timeZone: string): boolean {
  return timeZone.length > 0 && formatter(timeZone) !== null
}

/** The wall clock in `timeZone` at `instantMs`. The timezone must be valid. */
export function wallClockAt(instantMs: number, timeZone: string): WallClock {
  const f = formatter(timeZone)
  if (!f) throw new Error(`Unknown timezone ${timeZone}`)
  let year = 0
  let month = 1
  let day = 1
  let hour = 0
  let minute = 0
  let second = 0
  let bc = false
  for (const part of f.formatToParts(instantMs)) {
    switch (part.type) {
      case 'year':
        year = Number(part.value)
        break
      case 'month':
        month = Number(part.value)
        break
      case 'day':
        day = Number(part.value)
        break
      case 'hour':
        hour = Number(part.value)
        break
      case 'minute':
        minute = Number(part.value)
        break
      case 'second':
        second = Number(part.value)
        break
      case 'era':
        bc = part.value.startsWith('B')
        break
    }
  }
  if (bc) year = 1 - year
  const ms = ((instantMs % 1000) + 1000) % 1000
  const date = new Date(0)
  date.setUTCFullYear(year, month - 1, day)
  date.setUTCHours(hour, minute, second, ms)
  return {
    year,
    month,
    day,
    hour,
    minute,
    second,
    secondOfDay: hour * 3600 + minute * 60 + second,
    wallMs: date.getTime(),
  }
}

/** UTC offset in ms of `timeZone` at `instantMs` (Paris in winter: +3,600,000). */
export function offsetAt(instantMs: number, timeZone: string): number {
  return wallClockAt(instantMs, timeZone).wallMs - instantMs
}

const DAY_MS = 86_400_000

/**
 * The earliest instant ≥ notBefore at which the local clock in `timeZone` shows `wallMs`
 * (a wall time read as UTC), or, when that wall time falls in a DST gap, the instant the
 * clocks jump over it. Null when no such instant lies within a day of the wall time.
 */
export function instantAtWall(wallMs: number, timeZone: string, notBefore = -Infinity): number | null {
  const offsets = new Set<number>()
  for (const probe of [wallMs - DAY_MS, wallMs, wallMs + DAY_MS]) offsets.add(offsetAt(probe, timeZone))
  const exact: number[] = []
  for (const o of offsets) {
    const candidate = wallMs - o
    if (offsetAt(candidate, timeZone) === o) exact.push(candidate)
  }
  const fitting = exact.filter((t) => t >= notBefore).sort((a, b) => a - b)
  if (fitting[0] !== undefined) return fitting[0]
  if (exact.length > 0) return null
  // A gap: before the jump the wall clock is behind `wallMs`, after it ahead.
  const sorted = [...offsets].sort((a, b) => a - b)
  let lo = wallMs - sorted[sorted.length - 1]!
  let hi = wallMs - sorted[0]!
  const before = offsetAt(lo, timeZone)
  if (offsetAt(hi, timeZone) === before) return null
  // Transitions happen on whole seconds: search to the second.
  while (hi - lo > 1000) {
    const mid = lo + Math.floor((hi - lo) / 2000) * 1000
    if (offsetAt(mid, timeZone) === before) lo = mid
    else hi = mid
  }
  // The one whole second in (lo, hi] is where the clocks jumped.
  const jump = Math.floor(hi / 1000) * 1000
  return jump >= notBefore ? jump : null
}

/** Wall-clock ms (read as UTC) for a local date and time, allowing day overflow. */
export function wallMsOf(year: number, month: number, day: number, secondOfDay: number): number {
  const date = new Date(0)
  date.setUTCFullYear(year, month - 1, day)
  date.setUTCHours(0, 0, secondOfDay, 0)
  return date.getTime()
}

/** "2026-01-09 10:00" in `timeZone`: how trace messages show a time to a person. */
export function formatLocal(instantMs: number, timeZone: string): string {
  const w = wallClockAt(instantMs, timeZone)
  const p = (n: number) => String(n).padStart(2, '0')
  return `${String(w.year).padStart(4, '0')}-${p(w.month)}-${p(w.day)} ${p(w.hour)}:${p(w.minute)}`
}
