import { describe, expect, it } from 'vitest'
import { type QueuedFacts, queueWait, UNTAKEN_MS } from '../../../src/domain/messages/queue-wait.ts'

const now = new Date('2026-03-02T10:00:00Z')
const at = (d: Date) => `at ${d.toISOString().slice(11, 19)}`
const facts = (over: Partial<QueuedFacts>): QueuedFacts => ({
  channel: 'email',
  notBefore: now,
  reason: null,
  rate: null,
  ahead: 0,
  aheadMax: 100_000,
  ...over,
})

describe('queueWait', () => {
  it('tells a message due later when it is due, with why it went back to the queue', () => {
    const later = new Date('2026-03-02T11:30:00Z')
    expect(queueWait(facts({ notBefore: later }), now, at)).toBe('due at 11:30:00')
    expect(queueWait(facts({ notBefore: later, reason: 'quiet hours until 11:30' }), now, at)).toBe(
      'due at 11:30:00 (quiet hours until 11:30)',
    )
  })

  it('tells a due message on a limited channel its place in the backlog and how long it lasts', () => {
    const rate = { perSecond: 50, burst: 50 }
    expect(queueWait(facts({ rate, ahead: 1 }), now, at)).toBe(
      'waiting its turn under the email rate limit (at most 50 a second): 1 other message of the channel is due at or before it, under a second of sending',
    )
    expect(queueWait(facts({ rate, ahead: 12_400 }), now, at)).toBe(
      'waiting its turn under the email rate limit (at most 50 a second): 12,400 other messages of the channel are due at or before it, about 4 minutes of sending',
    )
    expect(queueWait(facts({ rate: { perSecond: 1, burst: 1 }, ahead: 100_000 }), now, at)).toBe(
      'waiting its turn under the email rate limit (at most 1 a second): at least 100,000 other messages of the channel are due at or before it, at least about 28 hours of sending',
    )
    expect(queueWait(facts({ rate: { perSecond: 1, burst: 1 }, ahead: 30 }), now, at)).toMatch(
      /30 other messages of the channel are due at or before it, about 30 seconds of sending$/,
    )
  })

  it('tells a due message on a channel without a limit the messages due with or before it', () => {
    const old = new Date(now.getTime() - UNTAKEN_MS - 1)
    // A backlog is being worked through: no word of a missing dispatcher.
    expect(queueWait(facts({ notBefore: old, ahead: 3 }), now, at)).toBe(
      'due at 09:58:59, waiting its turn: 3 other messages of the channel are due at or before it',
    )
  })

  it('tells a due message with nothing before it that it goes next, or that no dispatcher took it', () => {
    const rate = { perSecond: 50, burst: 50 }
    expect(queueWait(facts({ rate }), now, at)).toBe('due at 10:00:00, the dispatcher takes it next')
    const old = new Date(now.getTime() - UNTAKEN_MS - 1)
    expect(queueWait(facts({ notBefore: old }), now, at)).toBe(
      'due at 09:58:59, and no dispatcher has taken it since: check that a worker runs (nudge start --role worker, or all)',
    )
    // Within the minute, it is just next.
    expect(queueWait(facts({ notBefore: new Date(now.getTime() - UNTAKEN_MS) }), now, at)).toMatch(
      /takes it next$/,
    )
  })
})
