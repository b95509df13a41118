// Durations in guard policies and send requests are those of the condition language
// ("90s", "30m", "12h", "7d", "2w", "1d12h"): a day is a fixed 24 hours, so caps and
// dedupe windows are rolling windows of elapsed time that mean the same on DST days.
// Guards add one rule: a window must be written as text and be longer than zero (a cap
// or dedupe window of no time would mean nothing).
import { parseDuration } from '../conditions/duration.ts'
import type { DurationText } from '../conditions/types.ts'

export const DURATION_HINT = 'must be a duration such as "90s", "30m", "12h", "7d" or "2w"'

/** Milliseconds in `text`, or null when it is not a duration longer than zero. */
export function windowMs(text: DurationText): number | null {
  const d = parseDuration(text)
  return typeof text === 'string' && d.ok && d.ms > 0 ? d.ms : null
}
