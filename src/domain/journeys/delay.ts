// When a delay step ends: after a duration or at a date trait ± offset, then moved to the
// next moment inside a time window in the member's timezone (DST-correct).
import { durationMs } from './duration.ts'
import type { DelayStep, TimeWindow } from './types.ts'
import { addDays, formatZoned, fromZoned, parseTimeOfDay, toZoned, weekdayOf } from './zoned-time.ts'

export type DelayOutcome =
  | { readonly ok: true; readonly at: Date; readonly description: string }
  | { readonly ok: false; readonly reason: string }

export interface DelayContext {
  readonly now: Date
  readonly traits: Readonly<Record<string, unknown>>
  /** The member's timezone, else the journey's, else UTC. */
  readonly timezone: string
}

export function delayUntil(step: DelayStep, ctx: DelayContext): DelayOutcome {
  let base = ctx.now
  const how: string[] = []
  if (step.for !== undefined) {
    base = new Date(ctx.now.getTime() + durationMs(step.for))
    how.push(`delay ${step.for}`)
  } else if (step.until !== undefined) {
    const date = traitDate(ctx.traits[step.until.trait])
    if (!date) return { ok: false, reason: `trait ${step.until.trait} is not a date` }
    const offset = step.until.offset ?? '0s'
    base = new Date(date.getTime() + durationMs(offset))
    how.push(step.until.offset ? `${step.until.trait} ${signed(step.until.offset)}` : step.until.trait)
  }
  let at = base
  let timezone = ctx.timezone
  if (step.window) {
    timezone = step.window.timezone ?? ctx.timezone
    at = nextInWindow(base, step.window, timezone)
    const days = step.window.days ? ` on ${step.window.days.join(', ')}` : ''
    how.push(`${step.window.from}–${step.window.to}${days}`)
  }
  // A date in the past does not hold the run back.
  if (at.getTime() < ctx.now.getTime()) at = ctx.now
  return { ok: true, at, description: `${formatZoned(at, timezone)} ${timezone} (${how.join(' then ')})` }
}

/** The first instant ≥ t inside the window, in `timeZone`. */
export function nextInWindow(t: Date, window: TimeWindow, timeZone: string): Date {
  const [fh, fm] = parseTimeOfDay(window.from)
  const [th, tm] = parseTimeOfDay(window.to)
  const today = toZoned(t, timeZone)
  // Eight days always reach an allowed weekday; one more covers a window emptied by DST.
  for (let i = 0; i <= 8; i++) {
    const d = addDays(today, i)
    if (window.days && !window.days.includes(weekdayOf(d))) continue
    const start = fromZoned({ ...d, hour: fh, minute: fm, second: 0 }, timeZone)
    const end = fromZoned({ ...d, hour: th, minute: tm, second: 0 }, timeZone)
    if (t.getTime() < start.getTime()) return start
    if (t.getTime() < end.getTime()) return t
  }
  throw new Error('no time window within nine days: validate the journey first')
}

export function traitDate(value: unknown): Date | null {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value
  if (typeof value === 'string' || typeof value === 'number') {
    const d = new Date(value)
    return Number.isNaN(d.getTime()) ? null : d
  }
  return null
}

function signed(offset: string): string {
  return offset.startsWith('-') ? `- ${offset.slice(1)}` : `+ ${offset}`
}
