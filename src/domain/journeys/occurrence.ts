// When time-based triggers fire next, for the scheduler: a date relative to a trait
// (renewal_at - 7d, anniversaries) for one profile, or a cron schedule.
import { nextCronAt, parseCron } from './cron.ts'
import { traitDate } from './delay.ts'
import { durationMs } from './duration.ts'
import type { Trigger } from './types.ts'
import { fromZoned, type LocalDateTime, parseTimeOfDay, toZoned } from './zoned-time.ts'

type DateTrigger = Extract<Trigger, { type: 'date' }>
type ScheduleTrigger = Extract<Trigger, { type: 'schedule' }>

const CALENDAR_DATE = /^(\d{4})-(\d{2})-(\d{2})$/

/**
 * The trait as clocks in `timeZone` read it. A bare calendar date ("1990-02-29", a birthday)
 * is that day in the member's timezone, not midnight UTC (which is the day before in New York).
 */
function localBase(value: unknown, timeZone: string): LocalDateTime | null {
  const m = typeof value === 'string' ? CALENDAR_DATE.exec(value) : null
  if (m) {
    const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])]
    const check = new Date(Date.UTC(year, month - 1, day))
    if (check.getUTCMonth() !== month - 1 && !(month === 2 && day === 29)) return null
    return { year, month, day, hour: 0, minute: 0, second: 0 }
  }
  const d = traitDate(value)
  return d && toZoned(d, timeZone)
}

/**
 * The next moment strictly after `after` at which a date trigger fires for a profile with
 * these traits, or null (no such trait, or a one-off date already past).
 */
export function nextDateOccurrence(
  trigger: DateTrigger,
  traits: Readonly<Record<string, unknown>>,
  after: Date,
  timeZone: string,
): Date | null {
  const base = localBase(traits[trigger.trait], timeZone)
  if (!base) return null
  const offset = trigger.offset ? durationMs(trigger.offset) : 0
  const moment = (yearsLater: number): Date => {
    const l = base
    // 29 February falls on 28 February in other years.
    const lastDay = new Date(Date.UTC(l.year + yearsLater, l.month, 0)).getUTCDate()
    const shifted = { ...l, year: l.year + yearsLater, day: Math.min(l.day, lastDay) }
    const t = new Date(fromZoned(shifted, timeZone).getTime() + offset)
    if (!trigger.at) return t
    const [hour, minute] = parseTimeOfDay(trigger.at)
    return fromZoned({ ...toZoned(t, timeZone), hour, minute, second: 0 }, timeZone)
  }
  if (!trigger.repeat) {
    const t = moment(0)
    return t.getTime() > after.getTime() ? t : null
  }
  const years = toZoned(after, timeZone).year - base.year
  for (let k = Math.max(0, years - 1); k <= years + 2; k++) {
    const t = moment(k)
    if (t.getTime() > after.getTime()) return t
  }
  return null
}

/** The next run of a schedule trigger, in `timeZone` (the trigger's own, or the member's). */
export function nextScheduleOccurrence(
  trigger: ScheduleTrigger,
  after: Date,
  memberTimeZone: string,
): Date | null {
  const cron = parseCron(trigger.cron)
  return cron ? nextCronAt(cron, after, trigger.timezone ?? memberTimeZone) : null
}
