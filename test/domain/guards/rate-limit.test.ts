import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decide } from '../../../src/domain/guards/decide.ts'
import {
  idleRateLimiter,
  nextSlot,
  type RateLimiterState,
  reserveSlots,
  slotsFromTat,
} from '../../../src/domain/guards/rate-limit.ts'
import { policy, request, state } from './fixtures.ts'

const t0 = Date.parse('2026-01-05T10:00:00Z')

/** Asks for n slots one by one at the same instant, as n workers would. */
function slotsAt(n: number, rate: { perSecond: number; burst: number }, now = t0) {
  let s: RateLimiterState = idleRateLimiter
  const out: number[] = []
  for (let i = 0; i < n; i++) {
    const r = nextSlot(s, rate, now)
    out.push(r.at - now)
    s = r.state
  }
  return out
}

describe('channel rate limit (GCRA)', () => {
  it('10/s without burst: one message every 100 ms', () => {
    expect(slotsAt(5, { perSecond: 10, burst: 1 })).toEqual([0, 100, 200, 300, 400])
  })

  it('10/s with a burst of 3: three at once, then the sustained rate', () => {
    expect(slotsAt(6, { perSecond: 10, burst: 3 })).toEqual([0, 0, 0, 100, 200, 300])
  })

  it('an idle channel regains its burst: capacity does not pile up beyond it', () => {
    let s: RateLimiterState = idleRateLimiter
    for (let i = 0; i < 3; i++) s = nextSlot(s, { perSecond: 10, burst: 3 }, t0).state
    // An hour later, still only 3 at once.
    const later = t0 + 3_600_000
    const waits: number[] = []
    for (let i = 0; i < 4; i++) {
      const r = nextSlot(s, { perSecond: 10, burst: 3 }, later)
      waits.push(r.waitMs)
      s = r.state
    }
    expect(waits).toEqual([0, 0, 0, 100])
  })

  it('a fractional interval (3/s) never hands out a slot early', () => {
    expect(slotsAt(4, { perSecond: 3, burst: 1 })).toEqual([0, 334, 667, 1000])
  })

  it('reserving a batch equals reserving one by one, and the SQL shape (tat only) gives the same slots', () => {
    const rate = { perSecond: 20, burst: 4 }
    const start: RateLimiterState = { tat: t0 + 130 }
    const batch = reserveSlots(start, rate, t0, 7)
    let s = start
    const single: number[] = []
    for (let i = 0; i < 7; i++) {
      const r = nextSlot(s, rate, t0)
      single.push(r.at)
      s = r.state
    }
    expect(batch.slots).toEqual(single)
    expect(batch.state).toEqual(s)
    // The row only returns the updated tat; the slots are derived from it.
    expect(slotsFromTat(batch.state.tat, rate, t0, 7)).toEqual(batch.slots)
  })

  it('property: in any 1 s window no more than burst + perSecond − 1 messages get slots', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 1, max: 10 }),
        fc.array(fc.integer({ min: 0, max: 500 }), { minLength: 1, maxLength: 200 }),
        (perSecond, burst, gaps) => {
          const rate = { perSecond, burst }
          let s: RateLimiterState = idleRateLimiter
          let now = t0
          const slots: number[] = []
          for (const gap of gaps) {
            now += gap
            const r = nextSlot(s, rate, now)
            expect(r.at).toBeGreaterThanOrEqual(now)
            slots.push(r.at)
            s = r.state
          }
          slots.sort((a, b) => a - b)
          for (let i = 0; i < slots.length; i++) {
            let j = i
            while (j < slots.length && slots[j]! < slots[i]! + 1000) j++
            expect(j - i).toBeLessThanOrEqual(burst + perSecond - 1)
          }
        },
      ),
    )
  })

  it('decide names the limit the dispatcher applies; no limit when the policy sets null', () => {
    const p = policy({ rateLimits: { sms: { perSecond: 1 }, in_app: null } })
    const sms = decide(request({ channel: 'sms' }), state(), p, new Date(t0))
    expect(sms).toMatchObject({ outcome: 'send', rateLimit: { perSecond: 1, burst: 1 } })
    expect(sms.verdicts.at(-1)?.message).toBe(
      'rate limit: sms at most 1/s (burst 1), the dispatcher takes the next slot',
    )
    const inApp = decide(request({ channel: 'in_app' }), state(), p, new Date(t0))
    expect(inApp).toMatchObject({ outcome: 'send', rateLimit: null })
    expect(inApp.verdicts.at(-1)?.message).toBe('no rate limit for in_app')
  })
})
