// Wall-clock time in an IANA timezone, with Intl only. Converting a local time to an
// instant follows Temporal's "compatible" rule: in an overlap (clocks go back) the earlier
// instant wins, in a gap (clocks go forward) the time moves forward by the gap.
import type { Weekday } from './types.ts'

export interface LocalDate {
  readonly year: number
  /** 1-12 */
  readonly month: number
  readonly day: number
}

export interface LocalDateTime extends LocalDate {
  readonly hour: number
  readonly minute: number
  readonly second: number
}

export const WEEKDAYS: readonly Weekday[] = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat']

const formatters = new Map<string, Intl.DateTimeFormat>()

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone)
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    })
    formatters.set(timeZone, f)
  }
  return f
}

/** The wall-clock reading of `date` in `timeZone`. */
export function toZoned(date: Date, timeZone: string): LocalDateTime {
  const parts: Record<string, number> = {}
  for (const p of formatter(timeZone).formatToParts(date)) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value)
  }
  return {
    year: parts['year']!,
    month: parts['month']!,
    day: parts['day']!,
    hour: parts['hour']!,
    minute: parts['minute']!,
    second: parts['second']!,
  }
}

function asUtcMs(l: LocalDateTime): number {
  return Date.UTC(l.year, l.month - 1, l.day, l.hour, l.minute, l.second)
}

/** Offset of `timeZone` from UTC at an instant, in ms (Paris in winter: +3_600_000). */
export function offsetAt(ms: number, timeZone: string): number {
  const whole = Math.floor(ms / 1000) * 1000
  return asUtcMs(toZoned(new Date(whole), timeZone)) - whole
}

/** The instant at which clocks in `timeZone` read `local`. */
export function fromZoned(local: LocalDateTime, timeZone: string): Date {
  const wall = asUtcMs(local)
  const before = offsetAt(wall - 86_400_000, timeZone)
  const after = offsetAt(wall + 86_400_000, timeZone)
  const valid = [before, after].map((o) => wall - o).filter((t) => offsetAt(t, timeZone) === wall - t)
  if (valid.length > 0) return new Date(Math.min(...valid))
  // In a gap: read the wall time with the offset in force before the change.
  return new Date(wall - before)
}

export function weekdayOf(d: LocalDate): Weekday {
  return WEEKDAYS[new Date(Date.UTC(d.year, d.month - 1, d.day)).getUTCDay()]!
}

/** The calendar date `days` after `d` (days may be negative). */
export function addDays(d: LocalDate, days: number): LocalDate {
  const t = new Date(Date.UTC(d.year, d.month - 1, d.day + days))
  return { year: t.getUTCFullYear(), month: t.getUTCMonth() + 1, day: t.getUTCDate() }
}

/** "HH:MM" → [hour, minute] (validated by the schema). */
export function parseTimeOfDay(text: string): [number, number] {
  const [h, m] = text.split(':').map(Number)
  return [h ?? 0, m ?? 0]
}

const pad = (n: number) => String(n).padStart(2, '0')

/** "2026-01-08 09:00" as read on clocks in `timeZone`. */
export function formatZoned(date: Date, timeZone: string): string {
  const l = toZoned(date, timeZone)
  return `${l.year}-${pad(l.month)}-${pad(l.day)} ${pad(l.hour)}:${pad(l.minute)}`
}

/** Answers already known: building a formatter to find out is slow, and asked per step. */
const knownZones = new Map<string, boolean>()

export function isTimezone(name: string): boolean {
  const known = knownZones.get(name)
  if (known !== undefined) return known
  let valid: boolean
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name })
    valid = true
  } catch {
    valid = false
  }
  // Names come from traits: keep the memory bounded whatever they hold.
  if (knownZones.size >= 1000) knownZones.clear()
  knownZones.set(name, valid)
  return valid
}
