import { describe, expect, it } from 'vitest'
import { decide } from '../../../src/domain/guards/decide.ts'
import { policy, request, sent, state } from './fixtures.ts'

const now = new Date('2026-01-08T09:00:00Z') // 10:00 in Paris, a Thursday
const weeklyRule = { max: 3, per: '7d', scope: 'marketing' }
const weekly = { caps: [weeklyRule] }

describe('frequency caps', () => {
  it('counts across channels and journeys: the 4th marketing message in 7 days is capped', () => {
    // Three different journeys, three different channels, each message deduplicated on its own key.
    const history = [
      sent('2026-01-02T09:00:00Z', { channel: 'email', dedupeKey: 'journey:welcome:tips' }),
      sent('2026-01-04T12:00:00Z', { channel: 'push', dedupeKey: 'journey:photo-guide:push' }),
      sent('2026-01-07T18:00:00Z', { channel: 'sms', dedupeKey: 'journey:booking:sms' }),
    ]
    const d = decide(request({ channel: 'webhook' }), state({ history }), policy(weekly), now)
    expect(d).toMatchObject({ outcome: 'capped', mode: 'skip', count: 3, rule: { max: 3, per: '7d' } })
    expect(d.verdicts.at(-1)?.message).toBe(
      'capped: 3 marketing messages in 7 days (rule max 3 marketing messages per 7d), skipped; next possible 2026-01-09 10:00 (Europe/Paris)',
    )
  })

  it.each([
    { label: '1 ms before the oldest leaves the window', at: '2026-01-09T08:59:59.999Z', outcome: 'capped' },
    { label: 'exactly when the oldest leaves the window', at: '2026-01-09T09:00:00.000Z', outcome: 'send' },
  ])('window edge: $label → $outcome', ({ at, outcome }) => {
    const history = [
      sent('2026-01-02T09:00:00Z'),
      sent('2026-01-04T12:00:00Z', { channel: 'push' }),
      sent('2026-01-07T18:00:00Z', { channel: 'sms' }),
    ]
    expect(decide(request(), state({ history }), policy(weekly), new Date(at)).outcome).toBe(outcome)
  })

  it('mode wait: retries when enough old messages have left the window for the rule to have room', () => {
    const history = [
      '2026-01-02T09:00:00Z',
      '2026-01-03T09:00:00Z',
      '2026-01-05T09:00:00Z',
      '2026-01-06T09:00:00Z',
    ].map((t) => sent(t))
    // 4 sent, max 3: two must leave, so the window has room when the 2nd oldest leaves.
    const d = decide(request(), state({ history }), policy({ caps: [{ ...weeklyRule, mode: 'wait' }] }), now)
    expect(d).toMatchObject({
      outcome: 'capped',
      mode: 'wait',
      count: 4,
      retryAt: new Date('2026-01-10T09:00:00Z'),
    })
  })

  it('a rule only covers its scope: marketing caps do not hold back an onboarding message', () => {
    const history = [sent('2026-01-07T09:00:00Z'), sent('2026-01-07T10:00:00Z'), sent('2026-01-07T11:00:00Z')]
    const d = decide(request({ category: 'onboarding' }), state({ history }), policy(weekly), now)
    expect(d.outcome).toBe('send')
    expect(d.verdicts.find((v) => v.guard === 'frequency_cap')?.message).toBe(
      'no cap rule covers onboarding on email',
    )
  })

  it("scope 'all' counts every non-transactional category together", () => {
    const history = [
      sent('2026-01-08T06:00:00Z', { category: 'onboarding' }),
      sent('2026-01-08T07:00:00Z', { category: 'marketing' }),
      sent('2026-01-08T08:00:00Z', { category: 'moderation', transactional: true }), // not counted
    ]
    const p = policy({ caps: [{ max: 2, per: '1d' }] })
    expect(decide(request({ category: 'community' }), state({ history }), p, now)).toMatchObject({
      outcome: 'capped',
      count: 2,
    })
  })

  it('a per-channel rule counts and limits only its channel', () => {
    const p = policy({ caps: [{ max: 1, per: '1d', channel: 'sms', name: 'one sms a day' }] })
    const history = [
      sent('2026-01-08T07:00:00Z', { channel: 'sms' }),
      sent('2026-01-08T08:00:00Z', { channel: 'email' }),
    ]
    const sms = decide(request({ channel: 'sms' }), state({ history }), p, now)
    expect(sms).toMatchObject({ outcome: 'capped', mode: 'skip', count: 1 })
    expect(sms.verdicts.at(-1)?.message).toBe(
      'capped: 1 message on sms in 1 day (rule "one sms a day": max 1 message on sms per 1d), skipped; next possible 2026-01-09 08:00 (Europe/Paris)',
    )
    expect(decide(request({ channel: 'email' }), state({ history }), p, now).outcome).toBe('send')
  })

  it('a skip rule wins over a wait rule; among wait rules the latest free time wins', () => {
    const history = [sent('2026-01-08T07:00:00Z'), sent('2026-01-08T08:00:00Z')]
    const both = policy({
      caps: [
        { max: 2, per: '1d', mode: 'wait' },
        { max: 2, per: '7d', scope: 'marketing', mode: 'skip' },
      ],
    })
    expect(decide(request(), state({ history }), both, now)).toMatchObject({
      outcome: 'capped',
      mode: 'skip',
    })
    const waits = policy({
      caps: [
        { max: 2, per: '1h', mode: 'wait' },
        { max: 2, per: '1d', mode: 'wait' },
      ],
    })
    // 1h rule: the 07:00 one left already, so only the 1d rule is full.
    expect(decide(request(), state({ history }), waits, now)).toMatchObject({
      outcome: 'capped',
      rule: { per: '1d' },
      retryAt: new Date('2026-01-09T07:00:00Z'),
    })
  })

  it('pending messages (deferred, waiting) do not count until they are sent', () => {
    const history = [1, 2, 3].map((h) => sent(`2026-01-08T0${h}:00:00Z`, { status: 'pending' }))
    expect(decide(request(), state({ history }), policy(weekly), now).outcome).toBe('send')
  })

  it('transactional messages are exempt, and the trace says so', () => {
    const history = [1, 2, 3].map((h) => sent(`2026-01-08T0${h}:00:00Z`))
    const d = decide(request({ transactional: true }), state({ history }), policy(weekly), now)
    expect(d.outcome).toBe('send')
    expect(d.verdicts.find((v) => v.guard === 'frequency_cap')).toEqual({
      guard: 'frequency_cap',
      result: 'exempt',
      message: 'transactional: not capped',
    })
  })

  it('shows usage when it passes', () => {
    const d = decide(request(), state({ history: [sent('2026-01-07T09:00:00Z')] }), policy(weekly), now)
    expect(d.verdicts.find((v) => v.guard === 'frequency_cap')?.message).toBe(
      'passed frequency caps: max 3 marketing messages per 7d 1/3',
    )
  })
})
