// Guard 5: quiet hours in the member's timezone. A window is [start, end) on the local
// wall clock and may span midnight (21:00 → 08:00). A message in the window is postponed
// to the first instant the local clock shows `end` (on a spring-forward day when `end`
// does not exist: the moment the clocks jump; on a fall-back day: its first occurrence
// after now), or dropped, as the policy says. Transactional messages are exempt.
import type { Guard } from './context.ts'
import type { QuietHours } from './policy.ts'
import { formatLocal, instantAtWall, wallClockAt, wallMsOf } from './zoned-time.ts'

const secondsOf = (hhmm: string) => Number(hhmm.slice(0, 2)) * 3600 + Number(hhmm.slice(3, 5)) * 60

/** Whether a local time of day (seconds since midnight) lies in [start, end). */
export function inQuietWindow(secondOfDay: number, window: Pick<QuietHours, 'start' | 'end'>): boolean {
  const start = secondsOf(window.start)
  const end = secondsOf(window.end)
  return start < end ? secondOfDay >= start && secondOfDay < end : secondOfDay >= start || secondOfDay < end
}

export function isQuietAt(
  instantMs: number,
  timeZone: string,
  window: Pick<QuietHours, 'start' | 'end'>,
): boolean {
  return inQuietWindow(wallClockAt(instantMs, timeZone).secondOfDay, window)
}

const MINUTE_MS = 60_000

/**
 * The first instant after `now` outside the quiet window, or null when `now` is not in
 * it. Computed from the local date, with a minute-by-minute scan as a safety net for
 * timezones whose calendars skip whole days.
 */
export function quietHoursEnd(
  now: number,
  timeZone: string,
  window: Pick<QuietHours, 'start' | 'end'>,
): number | null {
  const wall = wallClockAt(now, timeZone)
  if (!inQuietWindow(wall.secondOfDay, window)) return null
  const start = secondsOf(window.start)
  const end = secondsOf(window.end)
  // In the evening part of a window spanning midnight, it ends tomorrow.
  const dayShift = start > end && wall.secondOfDay >= start ? 1 : 0
  const endWall = wallMsOf(wall.year, wall.month, wall.day + dayShift, end)
  const candidate = instantAtWall(endWall, timeZone, now + 1)
  if (candidate !== null && !isQuietAt(candidate, timeZone, window)) return candidate
  for (let t = Math.floor(now / MINUTE_MS + 1) * MINUTE_MS; t < now + 3 * 86_400_000; t += MINUTE_MS) {
    if (!isQuietAt(t, timeZone, window)) return t
  }
  return now + 86_400_000
}

export const quietHoursGuard: Guard = ({ request, policy, now, timeZone }) => {
  const q = policy.quietHours
  if (request.transactional) {
    return { verdict: { guard: 'quiet_hours', result: 'exempt', message: 'transactional: sent at any hour' } }
  }
  if (!q.enabled) return { verdict: { guard: 'quiet_hours', result: 'off', message: 'quiet hours are off' } }
  if (!q.channels.includes(request.channel)) {
    return {
      verdict: {
        guard: 'quiet_hours',
        result: 'off',
        message: `quiet hours do not apply to ${request.channel}`,
      },
    }
  }
  const local = `${formatLocal(now, timeZone)} ${timeZone}`
  const window = `${q.start}–${q.end}`
  const until = quietHoursEnd(now, timeZone, q)
  if (until === null) {
    return {
      verdict: {
        guard: 'quiet_hours',
        result: 'passed',
        message: `passed quiet hours: ${local} is outside ${window}`,
      },
    }
  }
  if (q.mode === 'drop') {
    return {
      verdict: {
        guard: 'quiet_hours',
        result: 'blocked',
        message: `dropped: ${local} is within quiet hours ${window}`,
      },
      outcome: { outcome: 'dropped', reason: 'quiet_hours', timezone: timeZone },
    }
  }
  return {
    verdict: {
      guard: 'quiet_hours',
      result: 'blocked',
      message: `deferred: ${local} is within quiet hours ${window}, postponed to ${formatLocal(until, timeZone)} ${timeZone}`,
    },
    outcome: { outcome: 'deferred', until: new Date(until), reason: 'quiet_hours', timezone: timeZone },
  }
}
