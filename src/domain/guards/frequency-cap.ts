// Guard 4: frequency caps, counted per profile across all journeys and channels over a
// rolling window (a message sent exactly `per` ago no longer counts). A rule counts and
// limits only the messages it covers: its scope ('all' or one category) and its channel if
// it names one. Transactional messages are exempt and are not counted. Pending messages
// (deferred, waiting) are not counted: they are decided again before they go.

import { spellDuration } from '../conditions/duration.ts'
import type { Guard } from './context.ts'
import { windowMs } from './duration.ts'
import { type CapRule, capRuleLabel, messagesOf } from './policy.ts'
import type { MessageRecord, SendRequest } from './types.ts'
import { formatLocal } from './zoned-time.ts'

function covers(rule: CapRule, m: Pick<SendRequest, 'category' | 'channel'>): boolean {
  return (rule.scope === 'all' || m.category === rule.scope) && (!rule.channel || m.channel === rule.channel)
}

export interface CapCount {
  readonly rule: CapRule
  readonly count: number
  /** When the window has room again (only when count ≥ max). */
  readonly freeAt: number | null
}

/** How many covered messages each applicable rule sees in its window at `now`. */
export function countCaps(
  rules: readonly CapRule[],
  request: SendRequest,
  history: readonly MessageRecord[],
  now: number,
): CapCount[] {
  const counts: CapCount[] = []
  for (const rule of rules) {
    if (!covers(rule, request)) continue
    const per = windowMs(rule.per) ?? 0
    const times = history
      .filter(
        (m) =>
          m.status === 'sent' &&
          !m.transactional &&
          m.messageId !== request.messageId &&
          covers(rule, m) &&
          m.at.getTime() > now - per,
      )
      .map((m) => m.at.getTime())
      .sort((a, b) => a - b)
    // Room comes back when enough of the oldest ones leave the window for count < max.
    const freeing = times[times.length - rule.max]
    counts.push({
      rule,
      count: times.length,
      freeAt: times.length >= rule.max && freeing !== undefined ? freeing + per : null,
    })
  }
  return counts
}

export const frequencyCapGuard: Guard = ({ request, state, policy, now, timeZone }) => {
  if (request.transactional) {
    return { verdict: { guard: 'frequency_cap', result: 'exempt', message: 'transactional: not capped' } }
  }
  const counts = countCaps(policy.caps, request, state.history, now)
  if (counts.length === 0) {
    return {
      verdict: {
        guard: 'frequency_cap',
        result: 'off',
        message: `no cap rule covers ${request.category} on ${request.channel}`,
      },
    }
  }
  const full = counts.filter((c) => c.freeAt !== null)
  // One skip rule is enough to drop it; otherwise wait until every full rule has room.
  const decisive =
    full.find((c) => c.rule.mode === 'skip') ?? [...full].sort((a, b) => (b.freeAt ?? 0) - (a.freeAt ?? 0))[0]
  if (decisive) {
    const { rule, count } = decisive
    const freeAt = decisive.freeAt ?? now
    const what = messagesOf(rule.scope, count)
    const where = rule.channel ? ` on ${rule.channel}` : ''
    const label = rule.name ? `"${rule.name}": ${capRuleLabel(rule)}` : capRuleLabel(rule)
    const next = `${formatLocal(freeAt, timeZone)} (${timeZone})`
    const message = `capped: ${count} ${what}${where} in ${spellDuration(rule.per)} (rule ${label}), ${
      rule.mode === 'skip' ? `skipped; next possible ${next}` : `waits until ${next}`
    }`
    return {
      verdict: { guard: 'frequency_cap', result: 'blocked', message },
      outcome:
        rule.mode === 'skip'
          ? { outcome: 'capped', rule, mode: 'skip', count }
          : { outcome: 'capped', rule, mode: 'wait', count, retryAt: new Date(freeAt) },
    }
  }
  const usage = counts
    .map((c) => `${c.rule.name ?? capRuleLabel(c.rule)} ${c.count}/${c.rule.max}`)
    .join(', ')
  return { verdict: { guard: 'frequency_cap', result: 'passed', message: `passed frequency caps: ${usage}` } }
}
