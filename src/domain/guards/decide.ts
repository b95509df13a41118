// decide(): runs the guards in the order DESIGN.md fixes and returns the first blocking
// outcome, or 'send', with every verdict up to there for the trace and the message log.
// Pure and total: the same inputs give the same decision, and it does not throw.
import { type Guard, type GuardInput, resolveTimeZone } from './context.ts'
import { dedupeGuard, dedupeKeyOf, dedupeWindowOf } from './dedupe.ts'
import { windowMs } from './duration.ts'
import { frequencyCapGuard } from './frequency-cap.ts'
import type { GuardPolicy } from './policy.ts'
import { quietHoursGuard } from './quiet-hours.ts'
import { rateLimitGuard } from './rate-limit.ts'
import { subscriptionGuard } from './subscription.ts'
import { suppressionGuard } from './suppression.ts'
import type { Decision, GuardState, SendRequest, Verdict } from './types.ts'

/** Subscription and suppression → dedupe → frequency cap → quiet hours; rate limit last. */
const ORDER: readonly Guard[] = [
  suppressionGuard,
  subscriptionGuard,
  dedupeGuard,
  frequencyCapGuard,
  quietHoursGuard,
]

export function decide(request: SendRequest, state: GuardState, policy: GuardPolicy, now: Date): Decision {
  const tz = resolveTimeZone(request.profile.timezone, policy.timezone)
  const input: GuardInput = { request, state, policy, now: now.getTime(), timeZone: tz.timeZone }
  const verdicts: Verdict[] = []
  for (const guard of ORDER) {
    const step = guard(input)
    verdicts.push(noteTimeZone(step.verdict, tz.note))
    if (step.outcome) return { ...step.outcome, verdicts }
  }
  verdicts.push(rateLimitGuard(input).verdict)
  return { outcome: 'send', rateLimit: policy.rateLimits[request.channel], verdicts }
}

// Only the guards that read the member's local time mention a timezone fallback.
function noteTimeZone(verdict: Verdict, note: string | null): Verdict {
  if (
    note === null ||
    verdict.guard !== 'quiet_hours' ||
    verdict.result === 'off' ||
    verdict.result === 'exempt'
  ) {
    return verdict
  }
  return { ...verdict, message: `${verdict.message} (${note})` }
}

/**
 * How far back the runtime must load this profile's history for decide() to be exact:
 * the longest cap window or the dedupe window, whichever is longer.
 */
export function historyHorizon(request: SendRequest, policy: GuardPolicy, now: Date): Date {
  let longest = 0
  for (const rule of policy.caps) longest = Math.max(longest, windowMs(rule.per) ?? 0)
  if (dedupeKeyOf(request) !== null) {
    longest = Math.max(longest, windowMs(dedupeWindowOf(request, policy.dedupe.window)) ?? 0)
  }
  return new Date(now.getTime() - longest)
}
