// Why a queued message has not gone out yet, in words, for `why` and the run stories: it is
// due later (and why it went back to the queue), it waits its turn under its channel's rate
// limit behind other messages, or it is due and no dispatcher has taken it.
import type { ChannelRate } from '../guards/policy.ts'

export interface QueuedFacts {
  readonly channel: string
  readonly notBefore: Date
  /** Why it went back to the queue: a guard's postponement, a failed attempt, its rate-limit slot. */
  readonly reason: string | null
  /** The channel's rate limit in the workspace; null for none. */
  readonly rate: ChannelRate | null
  /** Other messages of the channel queued and due at or before this one (at most `aheadMax`). */
  readonly ahead: number
  /** The count stops there: `ahead` equal to it means "at least". */
  readonly aheadMax: number
}

/** A due message no dispatcher has taken after this long says that none may be running. */
export const UNTAKEN_MS = 60_000

const count = (n: number, word: string) => `${n.toLocaleString('en-GB')} ${word}${n === 1 ? '' : 's'}`

function span(seconds: number): string {
  if (seconds < 1) return 'under a second'
  if (seconds < 90) return `about ${count(Math.round(seconds), 'second')}`
  if (seconds < 90 * 60) return `about ${count(Math.round(seconds / 60), 'minute')}`
  return `about ${count(Math.round(seconds / 3600), 'hour')}`
}

/** `at` words a time ("on 2 March at 10:00", "2026-03-02 10:00 UTC"), as the caller tells times. */
export function queueWait(m: QueuedFacts, now: Date, at: (d: Date) => string): string {
  if (m.notBefore > now) return m.reason ? `due ${at(m.notBefore)} (${m.reason})` : `due ${at(m.notBefore)}`
  const capped = m.ahead >= m.aheadMax
  const others = `${capped ? 'at least ' : ''}${count(m.ahead, 'other message')} of the channel ${m.ahead === 1 ? 'is' : 'are'} due at or before it`
  if (m.rate && m.ahead > 0)
    return (
      `waiting its turn under the ${m.channel} rate limit (at most ${m.rate.perSecond} a second): ` +
      `${others}, ${capped ? 'at least ' : ''}${span(m.ahead / m.rate.perSecond)} of sending`
    )
  if (m.ahead > 0) return `due ${at(m.notBefore)}, waiting its turn: ${others}`
  if (now.getTime() - m.notBefore.getTime() > UNTAKEN_MS)
    return `due ${at(m.notBefore)}, and no dispatcher has taken it since: check that a worker runs (nudge start --role worker, or all)`
  return `due ${at(m.notBefore)}, the dispatcher takes it next`
}
