// Guard 6: per-channel rate limits (messages per second, shared by all workers), as a
// GCRA (generic cell rate algorithm: a token bucket kept as one timestamp). The state is
// one number per (workspace, channel), the theoretical arrival time `tat`, so a single
// PostgreSQL row updated with one atomic statement serves every worker (docs/guards.md
// gives the SQL). decide() only says which limit applies; the dispatcher reserves the
// slots of a claimed batch in the database, before deciding its messages, because the
// reservation must be atomic across workers.
import type { Guard } from './context.ts'
import type { ChannelRate } from './policy.ts'

export interface RateLimiterState {
  /** Theoretical arrival time in epoch ms; 0 (or anything in the past) = an idle channel. */
  readonly tat: number
}

export const idleRateLimiter: RateLimiterState = { tat: 0 }

/** Milliseconds between two messages at the sustained rate. */
export const emissionInterval = (rate: ChannelRate) => 1000 / rate.perSecond

/** How far ahead of the sustained rate a burst may go, in milliseconds. */
export const burstTolerance = (rate: ChannelRate) => (rate.burst - 1) * emissionInterval(rate)

/**
 * Slot times for `count` messages reserved from an updated `tat` (as the SQL statement
 * returns it). Slot i = max(now, tat0 + i·T − (burst − 1)·T), rounded up to the ms so a
 * slot is never early.
 */
export function slotsFromTat(newTat: number, rate: ChannelRate, now: number, count = 1): number[] {
  const interval = emissionInterval(rate)
  const tolerance = burstTolerance(rate)
  const tat0 = newTat - count * interval
  const slots: number[] = []
  for (let i = 0; i < count; i++) slots.push(Math.max(now, Math.ceil(tat0 + i * interval - tolerance)))
  return slots
}

/** Reserves `count` consecutive slots: the pure twin of the SQL update. */
export function reserveSlots(
  state: RateLimiterState,
  rate: ChannelRate,
  now: number,
  count = 1,
): { readonly slots: number[]; readonly state: RateLimiterState } {
  const tat = Math.max(state.tat, now) + count * emissionInterval(rate)
  return { slots: slotsFromTat(tat, rate, now, count), state: { tat } }
}

/**
 * When the next message on this channel may go: `at` (epoch ms, ≥ now), how long that is
 * from now, and the state to store. The slot is reserved for this message: hold it until
 * `at` (sleep when short, a timer when long) rather than asking again.
 */
export function nextSlot(
  state: RateLimiterState,
  rate: ChannelRate,
  now: number,
): { readonly at: number; readonly waitMs: number; readonly state: RateLimiterState } {
  const { slots, state: next } = reserveSlots(state, rate, now, 1)
  const at = slots[0] ?? now
  return { at, waitMs: at - now, state: next }
}

export const rateLimitGuard: Guard = ({ request, policy }) => {
  const rate = policy.rateLimits[request.channel]
  if (!rate) {
    return {
      verdict: { guard: 'rate_limit', result: 'off', message: `no rate limit for ${request.channel}` },
    }
  }
  return {
    verdict: {
      guard: 'rate_limit',
      result: 'passed',
      message: `rate limit: ${request.channel} at most ${rate.perSecond}/s (burst ${rate.burst}), the dispatcher takes the next slot`,
    },
  }
}
