// Guard 3: the dedupe key. The same key never sends twice to a profile within its window,
// counted from the first message with that key (sent or still pending) whose age is less
// than the window: a message exactly `window` old no longer counts. Applies to
// transactional messages too: 50 identical password-reset triggers are still one mail.

import { spellDuration } from '../conditions/duration.ts'
import type { Guard } from './context.ts'
import { windowMs } from './duration.ts'
import type { SendRequest } from './types.ts'
import { formatLocal } from './zoned-time.ts'

/** The key a request is deduplicated on: explicit, else journey + step, else none. */
export function dedupeKeyOf(request: SendRequest): string | null {
  if (request.dedupe) return request.dedupe.key
  if (request.origin) return `journey:${request.origin.journeyId}:${request.origin.stepId}`
  return null
}

/** The window as text: the request's if it is a valid duration, else the policy's. */
export function dedupeWindowOf(request: SendRequest, policyWindow: string): string {
  const own = request.dedupe?.window
  return own !== undefined && windowMs(own) !== null ? own : policyWindow
}

export const dedupeGuard: Guard = ({ request, state, policy, now, timeZone }) => {
  const key = dedupeKeyOf(request)
  if (key === null) {
    return { verdict: { guard: 'dedupe', result: 'off', message: 'no dedupe key: not deduplicated' } }
  }
  const window = dedupeWindowOf(request, policy.dedupe.window)
  const span = windowMs(window) ?? 0
  const earlier = state.history
    .filter((m) => m.messageId !== request.messageId && m.dedupeKey === key && m.at.getTime() > now - span)
    .sort((a, b) => a.at.getTime() - b.at.getTime())
  const first = earlier[0]
  if (first) {
    const verb = first.status === 'sent' ? 'sent' : 'queued'
    const reason = `the same message (key "${key}") was already ${verb} at ${formatLocal(first.at.getTime(), timeZone)} (${timeZone}), within ${spellDuration(window)}`
    return {
      verdict: { guard: 'dedupe', result: 'blocked', message: `deduplicated: ${reason}` },
      outcome: { outcome: 'deduplicated', reason, key, firstSentAt: first.at },
    }
  }
  return {
    verdict: {
      guard: 'dedupe',
      result: 'passed',
      message: `passed dedupe check: key "${key}" not used within ${spellDuration(window)}`,
    },
  }
}
