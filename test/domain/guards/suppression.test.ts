import { describe, expect, it } from 'vitest'
import { decide } from '../../../src/domain/guards/decide.ts'
import type { SubscriptionPreference, Suppression } from '../../../src/domain/guards/types.ts'
import { policy, request, state } from './fixtures.ts'

const now = new Date('2026-01-05T10:00:00Z')
const on = (kind: Suppression['kind'], channel: Suppression['channel'] = 'email'): Suppression => ({
  kind,
  channel,
  at: new Date('2025-12-01T00:00:00Z'),
})
const pref = (
  topic: string,
  channel: SubscriptionPreference['channel'],
  subscribed: boolean,
  day: number,
) => ({
  topic,
  channel,
  subscribed,
  updatedAt: new Date(Date.UTC(2025, 11, day)),
})

describe('suppression list', () => {
  // The exact rules: what each kind stops, for marketing and for transactional messages.
  it.each([
    { kind: 'erased', marketing: 'suppressed', transactional: 'suppressed' },
    { kind: 'hard_bounce', marketing: 'suppressed', transactional: 'suppressed' },
    { kind: 'complaint', marketing: 'suppressed', transactional: 'send' },
    { kind: 'unsubscribed', marketing: 'suppressed', transactional: 'send' },
  ] as const)('$kind on email: marketing → $marketing, transactional → $transactional', (row) => {
    const s = state({ suppressions: [on(row.kind)] })
    expect(decide(request(), s, policy(), now)).toMatchObject({ outcome: row.marketing })
    expect(decide(request({ transactional: true }), s, policy(), now).outcome).toBe(row.transactional)
    if (row.marketing === 'suppressed') {
      expect(decide(request(), s, policy(), now)).toMatchObject({ reason: row.kind })
    }
  })

  it('a suppression for one channel leaves the others open; erasure closes every channel', () => {
    const bounced = state({ suppressions: [on('hard_bounce', 'email')] })
    expect(decide(request({ channel: 'sms' }), bounced, policy(), now).outcome).toBe('send')
    const erased = state({ suppressions: [on('erased', 'email')] })
    expect(decide(request({ channel: 'push', transactional: true }), erased, policy(), now)).toMatchObject({
      outcome: 'suppressed',
      reason: 'erased',
    })
    const everywhere = state({ suppressions: [on('complaint', null)] })
    expect(decide(request({ channel: 'sms' }), everywhere, policy(), now).outcome).toBe('suppressed')
  })

  it('reports the most serious kind and when it happened', () => {
    const s = state({
      suppressions: [on('unsubscribed'), { ...on('hard_bounce'), reason: '550 no such user' }],
    })
    const d = decide(request(), s, policy(), now)
    expect(d).toMatchObject({ outcome: 'suppressed', reason: 'hard_bounce' })
    expect(d.verdicts).toEqual([
      {
        guard: 'suppression',
        result: 'blocked',
        message: 'suppressed: the address hard-bounced on 2025-12-01 (550 no such user); blocks email',
      },
    ])
  })

  it('a transactional message past a complaint is sent, and the trace says why', () => {
    const d = decide(
      request({ transactional: true }),
      state({ suppressions: [on('complaint')] }),
      policy(),
      now,
    )
    expect(d.verdicts[0]).toEqual({
      guard: 'suppression',
      result: 'exempt',
      message:
        'passed suppression check: on the list for email (complaint), which does not stop transactional messages',
    })
  })
})

describe('subscription preferences (topics × channels)', () => {
  it.each([
    { label: 'no preference: subscribed by default', prefs: [], outcome: 'send', reason: undefined },
    {
      label: 'unsubscribed from the topic on this channel',
      prefs: [pref('tips', 'email', false, 1)],
      outcome: 'suppressed',
      reason: 'unsubscribed_topic',
    },
    {
      label: 'unsubscribed from the topic on every channel',
      prefs: [pref('tips', '*', false, 1)],
      outcome: 'suppressed',
      reason: 'unsubscribed_topic',
    },
    {
      label: 'unsubscribed from the topic on another channel',
      prefs: [pref('tips', 'sms', false, 1)],
      outcome: 'send',
      reason: undefined,
    },
    {
      label: 'unsubscribed from another topic',
      prefs: [pref('news', 'email', false, 1)],
      outcome: 'send',
      reason: undefined,
    },
    {
      label: 'unsubscribed from every topic on email',
      prefs: [pref('*', 'email', false, 1)],
      outcome: 'suppressed',
      reason: 'unsubscribed_channel',
    },
    {
      label: 'unsubscribed from everything',
      prefs: [pref('*', '*', false, 1)],
      outcome: 'suppressed',
      reason: 'unsubscribed',
    },
    {
      label: 'a later "no email" beats an older "yes to tips"',
      prefs: [pref('tips', 'email', true, 1), pref('*', 'email', false, 2)],
      outcome: 'suppressed',
      reason: 'unsubscribed_channel',
    },
    {
      label: 'a later "yes to tips" beats an older "no email"',
      prefs: [pref('*', 'email', false, 1), pref('tips', 'email', true, 2)],
      outcome: 'send',
      reason: undefined,
    },
    {
      label: 'same instant: the more specific choice wins',
      prefs: [pref('*', '*', false, 3), pref('tips', 'email', true, 3)],
      outcome: 'send',
      reason: undefined,
    },
    {
      label: 'same instant, same specificity: the unsubscribe wins',
      prefs: [pref('tips', 'email', true, 3), pref('tips', 'email', false, 3)],
      outcome: 'suppressed',
      reason: 'unsubscribed_topic',
    },
  ])('$label → $outcome', ({ prefs, outcome, reason }) => {
    const d = decide(request(), state({ preferences: prefs }), policy(), now)
    expect(d.outcome).toBe(outcome)
    if (reason) expect(d).toMatchObject({ reason })
  })

  it('a message without a topic is stopped only by channel-wide or global unsubscribes', () => {
    const noTopic = request({ topic: null })
    expect(
      decide(noTopic, state({ preferences: [pref('tips', '*', false, 1)] }), policy(), now).outcome,
    ).toBe('send')
    expect(
      decide(noTopic, state({ preferences: [pref('*', 'email', false, 1)] }), policy(), now).outcome,
    ).toBe('suppressed')
  })

  it('an opt-in topic needs a "yes" that names it', () => {
    const p = policy({ subscriptions: { requireOptIn: ['newsletter'] } })
    const newsletter = request({ topic: 'newsletter' })
    expect(decide(newsletter, state(), p, now)).toMatchObject({
      outcome: 'suppressed',
      reason: 'not_opted_in',
    })
    expect(decide(newsletter, state({ preferences: [pref('*', '*', true, 1)] }), p, now).outcome).toBe(
      'suppressed',
    )
    const optedIn = state({ preferences: [pref('newsletter', 'email', true, 1)] })
    expect(decide(newsletter, optedIn, p, now).outcome).toBe('send')
    expect(decide(newsletter, optedIn, p, now).verdicts[1]?.message).toBe(
      'passed subscription check: opted in to topic "newsletter" on email (2025-12-01)',
    )
  })

  it('transactional messages do not depend on preferences', () => {
    const d = decide(
      request({ transactional: true }),
      state({ preferences: [pref('*', '*', false, 1)] }),
      policy(),
      now,
    )
    expect(d.outcome).toBe('send')
    expect(d.verdicts[1]?.result).toBe('exempt')
  })
})
