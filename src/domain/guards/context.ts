// The shape every guard shares: one input, one step (a verdict, and an outcome when the
// guard blocks). decide.ts runs them in order and stops at the first outcome.
import type { GuardPolicy } from './policy.ts'
import type { GuardState, Outcome, SendRequest, Verdict } from './types.ts'
import { isValidTimeZone } from './zoned-time.ts'

export interface GuardInput {
  readonly request: SendRequest
  readonly state: GuardState
  readonly policy: GuardPolicy
  readonly now: number
  /** The member's timezone, already resolved (see resolveTimeZone). */
  readonly timeZone: string
}

export interface GuardStep {
  readonly verdict: Verdict
  readonly outcome?: Exclude<Outcome, { outcome: 'send' }>
}

export type Guard = (input: GuardInput) => GuardStep

/**
 * The timezone quiet hours and trace times use: the member's if Intl knows it, else the
 * workspace's, else UTC. `note` says why a fallback was taken, for the trace.
 */
export function resolveTimeZone(
  memberTimeZone: string | null,
  workspaceTimeZone: string,
): { readonly timeZone: string; readonly note: string | null } {
  if (memberTimeZone && isValidTimeZone(memberTimeZone)) return { timeZone: memberTimeZone, note: null }
  const fallback = isValidTimeZone(workspaceTimeZone) ? workspaceTimeZone : 'UTC'
  const note = memberTimeZone
    ? `member timezone "${memberTimeZone}" is unknown, used ${fallback}`
    : `member has no timezone, used ${fallback}`
  return { timeZone: fallback, note }
}
