// What the dispatcher does with a decision, and the message-log status it records.
// The exhaustive switches make a new outcome a compile error here, not a silent drop.
import type { ChannelRate } from './policy.ts'
import type { Decision } from './types.ts'

/** Message-log statuses the guards can produce (the channel adds sent/delivered/…). */
export type GuardedStatus = 'queued' | 'suppressed' | 'deduplicated' | 'capped' | 'deferred' | 'dropped'

export type NextAction =
  /** Take a rate-limit slot (when rateLimit is set) and hand the message to its channel. */
  | { readonly action: 'deliver'; readonly rateLimit: ChannelRate | null }
  /** Keep the message pending and run decide() again at `at`. */
  | { readonly action: 'retry'; readonly at: Date }
  /** The message will not go: record the status and stop. */
  | { readonly action: 'discard' }

export function nextAction(decision: Decision): NextAction {
  switch (decision.outcome) {
    case 'send':
      return { action: 'deliver', rateLimit: decision.rateLimit }
    case 'deferred':
      return { action: 'retry', at: decision.until }
    case 'capped':
      return decision.mode === 'wait' ? { action: 'retry', at: decision.retryAt } : { action: 'discard' }
    case 'suppressed':
    case 'deduplicated':
    case 'dropped':
      return { action: 'discard' }
    default: {
      const never: never = decision
      return never
    }
  }
}

export function statusOf(decision: Decision): GuardedStatus {
  switch (decision.outcome) {
    case 'send':
      return 'queued'
    case 'suppressed':
    case 'deduplicated':
    case 'capped':
    case 'deferred':
    case 'dropped':
      return decision.outcome
    default: {
      const never: never = decision
      return never
    }
  }
}

/** One line for the trace: the deciding verdict, or "sent" with the rate-limit note. */
export function summarize(decision: Decision): string {
  const last = decision.verdicts[decision.verdicts.length - 1]
  return decision.outcome === 'send'
    ? `send (after ${decision.verdicts.length} guards)`
    : (last?.message ?? decision.outcome)
}
