import { describe, expect, it } from 'vitest'
import { DEFAULT_RETRY_POLICY, decideRetry, parseRetryAfter } from '../../../src/domain/messages/retry.ts'

const policy = { maxAttempts: 5, baseDelayMs: 1000, maxDelayMs: 10_000, maxRetryAfterMs: 3_600_000 }
const retryable = { kind: 'retryable' as const, reason: 'HTTP 500' }

describe('retry decisions', () => {
  it('backs off exponentially with full jitter, capped', () => {
    // random() = 0.999…: the top of each window shows the exponential growth and the cap.
    const top = () => 0.9999
    const delays = [1, 2, 3, 4].map((a) => {
      const d = decideRetry(retryable, a, policy, top)
      return d.action === 'retry' ? d.delayMs : -1
    })
    expect(delays).toEqual([999, 1999, 3999, 7999])
    const capped = decideRetry(retryable, 4, { ...policy, maxAttempts: 10, maxDelayMs: 5000 }, top)
    expect(capped).toEqual({ action: 'retry', delayMs: 4999, attempt: 5 })
    // Full jitter: anything from 0 up.
    expect(decideRetry(retryable, 3, policy, () => 0)).toEqual({ action: 'retry', delayMs: 0, attempt: 4 })
  })

  it('dead-letters with the last error after the last attempt', () => {
    expect(decideRetry(retryable, 5, policy, () => 0.5)).toEqual({
      action: 'dead-letter',
      reason: 'gave up after 5 attempts: HTTP 500',
    })
  })

  it('never retries a rejection; dead-letters a misconfigured channel at once', () => {
    expect(decideRetry({ kind: 'rejected', reason: '550 no such user' }, 1, policy)).toEqual({
      action: 'fail',
      reason: '550 no such user',
    })
    expect(decideRetry({ kind: 'misconfigured', reason: 'bad password' }, 1, policy)).toMatchObject({
      action: 'dead-letter',
    })
  })

  it('waits at least as long as the peer asked, and gives up on absurd waits', () => {
    expect(decideRetry({ ...retryable, retryAfterMs: 120_000 }, 1, policy, () => 0.5)).toEqual({
      action: 'retry',
      delayMs: 120_000,
      attempt: 2,
    })
    expect(decideRetry({ ...retryable, retryAfterMs: 86_400_000 }, 1, policy).action).toBe('dead-letter')
  })

  it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = new Date('2026-03-02T08:30:00Z')
    expect(parseRetryAfter('30', now)).toBe(30_000)
    expect(parseRetryAfter('Mon, 02 Mar 2026 08:31:00 GMT', now)).toBe(60_000)
    expect(parseRetryAfter('soon', now)).toBeUndefined()
    expect(parseRetryAfter(null, now)).toBeUndefined()
  })

  it('the default policy gives up within a day', () => {
    let total = 0
    for (let a = 1; a < DEFAULT_RETRY_POLICY.maxAttempts; a++) {
      const d = decideRetry(retryable, a, DEFAULT_RETRY_POLICY, () => 0.9999)
      if (d.action === 'retry') total += d.delayMs
    }
    expect(total).toBeLessThan(24 * 3600_000)
    expect(decideRetry(retryable, DEFAULT_RETRY_POLICY.maxAttempts).action).toBe('dead-letter')
  })
})
