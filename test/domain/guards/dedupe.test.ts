import { describe, expect, it } from 'vitest'
import { decide } from '../../../src/domain/guards/decide.ts'
import { defaultGuardPolicy } from '../../../src/domain/guards/policy.ts'
import type { Decision, MessageRecord, SendRequest } from '../../../src/domain/guards/types.ts'
import { policy, request, sent, state } from './fixtures.ts'

// The runtime's part, reduced to its essence: decide per message, in order per profile,
// and record every message let through (or parked) before deciding the next one.
function dispatch(requests: readonly SendRequest[], at: (i: number) => Date, p = defaultGuardPolicy) {
  const history: MessageRecord[] = []
  const decisions: Decision[] = []
  requests.forEach((r, i) => {
    const d = decide(r, state({ history }), p, at(i))
    decisions.push(d)
    if (d.outcome === 'send' || d.outcome === 'deferred' || (d.outcome === 'capped' && d.mode === 'wait')) {
      history.push({
        messageId: r.messageId,
        status: d.outcome === 'send' ? 'sent' : 'pending',
        at: at(i),
        channel: r.channel,
        category: r.category,
        transactional: r.transactional,
        dedupeKey: r.dedupe?.key ?? (r.origin ? `journey:${r.origin.journeyId}:${r.origin.stepId}` : null),
      })
    }
  })
  return decisions
}

describe('dedupe: "never send the same trigger mail 50 times"', () => {
  // 50 "read-the-rules" moderation comments for one member within a minute: each starts a
  // run of the same journey, whose send step is the same key.
  const readTheRules = Array.from({ length: 50 }, (_, i) =>
    request({
      messageId: `run_${i}:send-rules:0`,
      topic: null,
      category: 'moderation',
      origin: { journeyId: 'read-the-rules', stepId: 'send-rules' },
    }),
  )

  it('50 identical trigger events for one member → exactly one send and 49 deduplicated', () => {
    const start = Date.parse('2026-01-05T10:00:00Z') // 11:00 in Paris: outside quiet hours
    const decisions = dispatch(readTheRules, (i) => new Date(start + i * 1000))
    expect(decisions.filter((d) => d.outcome === 'send')).toHaveLength(1)
    expect(decisions[0]?.outcome).toBe('send')
    const deduped = decisions.filter((d) => d.outcome === 'deduplicated')
    expect(deduped).toHaveLength(49)
    for (const d of deduped) {
      expect(d).toMatchObject({ key: 'journey:read-the-rules:send-rules', firstSentAt: new Date(start) })
    }
    expect(deduped[0]?.verdicts.at(-1)?.message).toBe(
      'deduplicated: the same message (key "journey:read-the-rules:send-rules") was already sent at 2026-01-05 11:00 (Europe/Paris), within 24 hours',
    )
  })

  it('50 triggers during the night → one deferred message, 49 deduplicated (not 50 mails at 08:00)', () => {
    const night = Date.parse('2026-01-05T22:30:00Z') // 23:30 in Paris
    const decisions = dispatch(readTheRules, (i) => new Date(night + i * 1000))
    expect(decisions.map((d) => d.outcome)).toEqual(['deferred', ...Array(49).fill('deduplicated')])
    expect(decisions[1]?.verdicts.at(-1)?.message).toContain('was already queued at 2026-01-05 23:30')
  })

  it('the deferred message itself sends when decided again at its time (its own entry does not dedupe it)', () => {
    const history = [
      sent('2026-01-05T22:30:00Z', { messageId: 'msg_new', status: 'pending', dedupeKey: 'k' }),
    ]
    const d = decide(
      request({ dedupe: { key: 'k' } }),
      state({ history }),
      policy(),
      new Date('2026-01-06T07:00:00Z'),
    )
    expect(d.outcome).toBe('send')
  })

  it.each([
    { label: 'one ms inside the window', sentAt: '2026-01-04T10:00:00.001Z', outcome: 'deduplicated' },
    { label: 'exactly at the window edge', sentAt: '2026-01-04T10:00:00.000Z', outcome: 'send' },
    { label: 'long before', sentAt: '2025-12-01T10:00:00Z', outcome: 'send' },
  ])('a 24h window, previous send $label → $outcome', ({ sentAt, outcome }) => {
    const history = [sent(sentAt, { dedupeKey: 'welcome' })]
    const d = decide(
      request({ dedupe: { key: 'welcome', window: '24h' } }),
      state({ history }),
      policy(),
      new Date('2026-01-05T10:00:00Z'),
    )
    expect(d.outcome).toBe(outcome)
  })

  it('a request window overrides the policy window; an invalid one falls back to it', () => {
    const history = [sent('2026-01-03T10:00:00Z', { dedupeKey: 'digest' })] // 2 days ago
    const now = new Date('2026-01-05T10:00:00Z')
    const withWeek = decide(
      request({ dedupe: { key: 'digest', window: '7d' } }),
      state({ history }),
      policy(),
      now,
    )
    expect(withWeek.outcome).toBe('deduplicated')
    const invalid = decide(
      request({ dedupe: { key: 'digest', window: 'soon' } }),
      state({ history }),
      policy(),
      now,
    )
    expect(invalid.outcome).toBe('send') // policy default 24h
  })

  it('reports the first message with the key in the window, across channels', () => {
    const history = [
      sent('2026-01-05T08:00:00Z', { dedupeKey: 'k', channel: 'push' }),
      sent('2026-01-05T06:00:00Z', { dedupeKey: 'k', channel: 'sms' }),
      sent('2026-01-05T07:00:00Z', { dedupeKey: 'other' }),
    ]
    const d = decide(
      request({ dedupe: { key: 'k' } }),
      state({ history }),
      policy(),
      new Date('2026-01-05T10:00:00Z'),
    )
    expect(d).toMatchObject({ outcome: 'deduplicated', firstSentAt: new Date('2026-01-05T06:00:00Z') })
  })

  it('transactional messages are deduplicated too', () => {
    const history = [sent('2026-01-05T09:59:00Z', { dedupeKey: 'reset', transactional: true })]
    const d = decide(
      request({ transactional: true, dedupe: { key: 'reset', window: '10m' } }),
      state({ history }),
      policy(),
      new Date('2026-01-05T10:00:00Z'),
    )
    expect(d.outcome).toBe('deduplicated')
  })

  it('without a key or an origin there is nothing to deduplicate on, and the trace says so', () => {
    const history = [sent('2026-01-05T09:59:00Z')]
    const d = decide(request(), state({ history }), policy(), new Date('2026-01-05T10:00:00Z'))
    expect(d.outcome).toBe('send')
    expect(d.verdicts.find((v) => v.guard === 'dedupe')).toEqual({
      guard: 'dedupe',
      result: 'off',
      message: 'no dedupe key: not deduplicated',
    })
  })
})
