// What to do after a failed send: retry after a backoff, or stop. Exponential backoff with
// full jitter (sleep = random(0, min(cap, base·2^attempt))) spreads the retries of many
// messages that failed together, so a recovering receiver is not hit by a synchronised wave.

/** How a send failed; channels return it, this decides what follows. */
export type FailureKind =
  /** Try again later: timeouts, 4xx SMTP replies, HTTP 5xx/408/429, connection refused. */
  | 'retryable'
  /** This message to this recipient will never go: bad address, 5xx recipient, expired subscription. */
  | 'rejected'
  /** The channel itself is wrong (credentials, URL, keys): every message would fail the same way. */
  | 'misconfigured'

export interface RetryPolicy {
  /** Attempts in all, the first one included. */
  readonly maxAttempts: number
  readonly baseDelayMs: number
  readonly maxDelayMs: number
  /** A peer's Retry-After is honoured up to this; beyond it the message dead-letters. */
  readonly maxRetryAfterMs: number
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 8,
  baseDelayMs: 2_000,
  maxDelayMs: 30 * 60_000,
  maxRetryAfterMs: 6 * 3600_000,
}

export type RetryDecision =
  | { readonly action: 'retry'; readonly delayMs: number; readonly attempt: number }
  /** Kept with its last error for a person to look at and replay. */
  | { readonly action: 'dead-letter'; readonly reason: string }
  /** Final: this message will never go (bad address, expired subscription, hard bounce). */
  | { readonly action: 'fail'; readonly reason: string }

export interface FailedAttempt {
  readonly kind: FailureKind
  readonly reason: string
  readonly retryAfterMs?: number
}

/**
 * @param attempt the attempt that just failed, 1 for the first
 * @param random a number in [0, 1): injected so that tests and the simulator are deterministic
 */
export function decideRetry(
  failure: FailedAttempt,
  attempt: number,
  policy: RetryPolicy = DEFAULT_RETRY_POLICY,
  random: () => number = Math.random,
): RetryDecision {
  switch (failure.kind) {
    case 'rejected':
      return { action: 'fail', reason: failure.reason }
    case 'misconfigured':
      // Retrying cannot help until a person fixes the channel; keep the message for replay.
      return { action: 'dead-letter', reason: `channel misconfigured: ${failure.reason}` }
    case 'retryable':
      break
    default: {
      const never: never = failure.kind
      throw new Error(`unknown failure kind ${String(never)}`)
    }
  }
  if (attempt >= policy.maxAttempts) {
    return { action: 'dead-letter', reason: `gave up after ${attempt} attempts: ${failure.reason}` }
  }
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1))
  const jittered = Math.floor(random() * ceiling)
  if (failure.retryAfterMs !== undefined) {
    if (failure.retryAfterMs > policy.maxRetryAfterMs) {
      return { action: 'dead-letter', reason: `asked to wait ${failure.retryAfterMs} ms: ${failure.reason}` }
    }
    return { action: 'retry', delayMs: Math.max(failure.retryAfterMs, jittered), attempt: attempt + 1 }
  }
  return { action: 'retry', delayMs: jittered, attempt: attempt + 1 }
}

/** Retry-After is either delay seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | null | undefined, now: Date): number | undefined {
  if (!value) return undefined
  const trimmed = value.trim()
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000
  const at = Date.parse(trimmed)
  if (Number.isNaN(at)) return undefined
  return Math.max(0, at - now.getTime())
}
