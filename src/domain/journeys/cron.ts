// Five-field cron ("0 9 * * mon-fri") evaluated in a timezone, for schedule triggers.
// Standard semantics: when both day-of-month and day-of-week are restricted, either matches.
import { addDays, fromZoned, type LocalDate, toZoned } from './zoned-time.ts'

export interface Cron {
  readonly minutes: readonly number[]
  readonly hours: readonly number[]
  readonly days: ReadonlySet<number>
  readonly months: ReadonlySet<number>
  readonly weekdays: ReadonlySet<number>
  readonly anyDay: boolean
  readonly anyWeekday: boolean
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec']
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat']

function field(text: string, min: number, max: number, names: string[] = [], nameBase = 0): number[] | null {
  const value = (t: string) => {
    const i = names.indexOf(t.toLowerCase())
    return i >= 0 ? i + nameBase : /^\d+$/.test(t) ? Number(t) : Number.NaN
  }
  const out = new Set<number>()
  for (const part of text.split(',')) {
    const [range = '', stepText] = part.split('/')
    const step = stepText === undefined ? 1 : Number(stepText)
    if (!Number.isInteger(step) || step < 1) return null
    let [lo, hi] = [min, max]
    if (range !== '*') {
      const [a = '', b] = range.split('-')
      lo = value(a)
      hi = b === undefined ? (stepText === undefined ? lo : max) : value(b)
    }
    if (Number.isNaN(lo) || Number.isNaN(hi) || lo < min || hi > max || lo > hi) return null
    for (let v = lo; v <= hi; v += step) out.add(v)
  }
  return [...out].sort((a, b) => a - b)
}

/** The parsed expression, or null when it is not a valid five-field cron. */
export function parseCron(text: string): Cron | null {
  const parts = text.trim().split(/\s+/)
  if (parts.length !== 5) return null
  const [m, h, dom, mon, dow] = parts as [string, string, string, string, string]
  const minutes = field(m, 0, 59)
  const hours = field(h, 0, 23)
  const days = field(dom, 1, 31)
  const months = field(mon, 1, 12, MONTHS, 1)
  const weekdays = field(dow, 0, 7, DAYS)
  if (!minutes || !hours || !days || !months || !weekdays) return null
  return {
    minutes,
    hours,
    days: new Set(days),
    months: new Set(months),
    weekdays: new Set(weekdays.map((d) => d % 7)),
    anyDay: dom === '*',
    anyWeekday: dow === '*',
  }
}

function dayMatches(c: Cron, d: LocalDate): boolean {
  if (!c.months.has(d.month)) return false
  const weekday = new Date(Date.UTC(d.year, d.month - 1, d.day)).getUTCDay()
  const byDay = c.days.has(d.day)
  const byWeekday = c.weekdays.has(weekday)
  if (c.anyDay && c.anyWeekday) return true
  if (c.anyDay) return byWeekday
  if (c.anyWeekday) return byDay
  return byDay || byWeekday
}

/** The first instant strictly after `after` matching the cron, read on clocks in `timeZone`. */
export function nextCronAt(cron: Cron, after: Date, timeZone: string): Date | null {
  const start = toZoned(after, timeZone)
  // Five years covers "29 February on a Monday" and every other rare match.
  for (let i = 0; i < 366 * 5; i++) {
    const d = addDays(start, i)
    if (!dayMatches(cron, d)) continue
    for (const hour of cron.hours) {
      for (const minute of cron.minutes) {
        const t = fromZoned({ ...d, hour, minute, second: 0 }, timeZone)
        if (t.getTime() > after.getTime()) return t
      }
    }
  }
  return null
}
