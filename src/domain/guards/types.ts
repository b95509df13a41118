// What the guards decide on (a send request and the state the runtime prefetched) and
// what they decide. The policy (workspace rules) is in ./policy.ts.
import type { DurationText } from '../conditions/types.ts'
import type { CapRule, ChannelRate } from './policy.ts'

export const CHANNELS = ['email', 'webhook', 'sms', 'push', 'in_app'] as const
export type Channel = (typeof CHANNELS)[number]

/** One message a journey (or an API call) wants to hand to a channel. */
export interface SendRequest {
  readonly workspaceId: string
  /** The message's own idempotency key (run, step, attempt): a re-decision ignores its own history entry. */
  readonly messageId: string
  readonly profile: {
    readonly profileId: string
    /** IANA name from the profile; null or unknown falls back to the workspace timezone. */
    readonly timezone: string | null
  }
  readonly channel: Channel
  /** Subscription topic ("tips", "newsletter"); null for messages outside any topic. */
  readonly topic: string | null
  /** What caps count it as: "marketing", "onboarding", "moderation", … */
  readonly category: string
  /** Password resets, receipts, moderation notices the member must get: see docs/guards.md. */
  readonly transactional: boolean
  /** The same key never sends twice to this profile within the window (default: policy.dedupe.window). */
  readonly dedupe?: { readonly key: string; readonly window?: DurationText }
  /** Where it comes from; without an explicit dedupe key, the key defaults to journey + step. */
  readonly origin?: { readonly journeyId: string; readonly stepId: string }
}

export const SUPPRESSION_KINDS = ['erased', 'hard_bounce', 'complaint', 'unsubscribed'] as const
export type SuppressionKind = (typeof SUPPRESSION_KINDS)[number]

/** An entry of the suppression list that matched this profile or its address. */
export interface Suppression {
  readonly kind: SuppressionKind
  /** The channel it applies to; null = every channel (erasure always applies to all). */
  readonly channel: Channel | null
  readonly at: Date
  readonly reason?: string
}

/** A member's choice for a topic × channel; '*' stands for every topic or every channel. */
export interface SubscriptionPreference {
  readonly topic: string | '*'
  readonly channel: Channel | '*'
  readonly subscribed: boolean
  readonly updatedAt: Date
}

/**
 * A message to this profile the guards already let through ('sent': handed or being
 * handed to its channel) or parked ('pending': deferred by quiet hours or waiting for a
 * cap). Pending messages hold their dedupe key, so 50 triggers during the night do not
 * become 50 mails in the morning; they do not count towards caps until they are sent.
 */
export interface MessageRecord {
  readonly messageId: string
  readonly status: 'sent' | 'pending'
  /** When it was sent ('sent') or first decided ('pending'). */
  readonly at: Date
  readonly channel: Channel
  readonly category: string
  readonly transactional: boolean
  readonly dedupeKey: string | null
}

/** Everything decide() needs besides the request and policy, prefetched by the runtime. */
export interface GuardState {
  readonly suppressions: readonly Suppression[]
  readonly preferences: readonly SubscriptionPreference[]
  /** This profile's messages since historyHorizon(): all journeys, all channels. */
  readonly history: readonly MessageRecord[]
}

export const GUARDS = [
  'suppression',
  'subscription',
  'dedupe',
  'frequency_cap',
  'quiet_hours',
  'rate_limit',
] as const
export type GuardName = (typeof GUARDS)[number]

/**
 * One guard's finding, in order, for the trace. passed: checked and fine; exempt: does not
 * apply to transactional messages; off: disabled by the policy or not for this channel;
 * blocked: this guard decided the outcome.
 */
export interface Verdict {
  readonly guard: GuardName
  readonly result: 'passed' | 'exempt' | 'off' | 'blocked'
  readonly message: string
}

export type SuppressionReason =
  | 'erased'
  | 'hard_bounce'
  | 'complaint'
  | 'unsubscribed'
  | 'unsubscribed_topic'
  | 'unsubscribed_channel'
  | 'not_opted_in'

export type Outcome =
  /** Hand it to the channel, after a slot from the channel's rate limiter when rateLimit is set. */
  | { readonly outcome: 'send'; readonly rateLimit: ChannelRate | null }
  | { readonly outcome: 'suppressed'; readonly reason: SuppressionReason }
  | {
      readonly outcome: 'deduplicated'
      readonly reason: string
      readonly key: string
      readonly firstSentAt: Date
    }
  | { readonly outcome: 'capped'; readonly rule: CapRule; readonly mode: 'skip'; readonly count: number }
  | {
      readonly outcome: 'capped'
      readonly rule: CapRule
      readonly mode: 'wait'
      readonly count: number
      readonly retryAt: Date
    }
  /** Quiet hours, mode postpone: decide again at `until`. */
  | {
      readonly outcome: 'deferred'
      readonly until: Date
      readonly reason: 'quiet_hours'
      readonly timezone: string
    }
  /** Quiet hours, mode drop. */
  | { readonly outcome: 'dropped'; readonly reason: 'quiet_hours'; readonly timezone: string }

/** The decision and every guard's verdict up to the one that decided. */
export type Decision = Outcome & { readonly verdicts: readonly Verdict[] }
