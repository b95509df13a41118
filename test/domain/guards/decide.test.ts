import { describe, expect, it } from 'vitest'
import { decide, historyHorizon } from '../../../src/domain/guards/decide.ts'
import { nextAction, statusOf, summarize } from '../../../src/domain/guards/outcome.ts'
import { defaultGuardPolicy } from '../../../src/domain/guards/policy.ts'
import { policy, request, sent, state } from './fixtures.ts'

describe('decide: the guards in order, every verdict recorded', () => {
  it('a message that passes shows six verdicts in the fixed order', () => {
    const d = decide(
      request({ origin: { journeyId: 'welcome', stepId: 'tips-mail' } }),
      state({ history: [sent('2026-01-06T09:00:00Z')] }),
      defaultGuardPolicy,
      new Date('2026-01-07T09:00:00Z'), // 10:00 in Paris
    )
    expect(d.outcome).toBe('send')
    expect(d.verdicts).toEqual([
      {
        guard: 'suppression',
        result: 'passed',
        message: 'passed suppression check: not on the list for email',
      },
      {
        guard: 'subscription',
        result: 'passed',
        message:
          'passed subscription check: topic "tips" on email, no preference recorded (subscribed by default)',
      },
      {
        guard: 'dedupe',
        result: 'passed',
        message: 'passed dedupe check: key "journey:welcome:tips-mail" not used within 24 hours',
      },
      {
        guard: 'frequency_cap',
        result: 'passed',
        message: 'passed frequency caps: marketing per week 1/3, per day 0/5',
      },
      {
        guard: 'quiet_hours',
        result: 'passed',
        message: 'passed quiet hours: 2026-01-07 10:00 Europe/Paris is outside 21:00–08:00',
      },
      {
        guard: 'rate_limit',
        result: 'passed',
        message: 'rate limit: email at most 50/s (burst 50), the dispatcher takes the next slot',
      },
    ])
  })

  it('stops at the first guard that blocks: a suppressed message is not capped or deferred', () => {
    const night = new Date('2026-01-07T23:00:00Z')
    const history = [1, 2, 3].map((d) => sent(`2026-01-0${d}T09:00:00Z`))
    const d = decide(
      request(),
      state({
        history,
        suppressions: [{ kind: 'unsubscribed', channel: 'email', at: new Date('2026-01-01') }],
      }),
      defaultGuardPolicy,
      night,
    )
    expect(d.outcome).toBe('suppressed')
    expect(d.verdicts.map((v) => v.guard)).toEqual(['suppression'])
    // Without the suppression the cap decides before quiet hours do.
    const capped = decide(request(), state({ history }), defaultGuardPolicy, night)
    expect(capped.outcome).toBe('capped')
    expect(capped.verdicts.map((v) => `${v.guard}:${v.result}`)).toEqual([
      'suppression:passed',
      'subscription:passed',
      'dedupe:off',
      'frequency_cap:blocked',
    ])
  })

  it.each([
    { label: 'send', setup: {}, at: '2026-01-07T10:00:00Z', action: { action: 'deliver' }, status: 'queued' },
    {
      label: 'deferred',
      setup: {},
      at: '2026-01-07T22:00:00Z',
      action: { action: 'retry', at: new Date('2026-01-08T07:00:00Z') },
      status: 'deferred',
    },
    {
      label: 'suppressed',
      setup: { suppressions: [{ kind: 'erased' as const, channel: null, at: new Date(0) }] },
      at: '2026-01-07T10:00:00Z',
      action: { action: 'discard' },
      status: 'suppressed',
    },
  ])('the dispatcher reads $label as $status', ({ setup, at, action, status }) => {
    const d = decide(request(), state(setup), defaultGuardPolicy, new Date(at))
    expect(nextAction(d)).toMatchObject(action)
    expect(statusOf(d)).toBe(status)
  })

  it('a capped message in wait mode is retried when the window has room; in skip mode it is discarded', () => {
    const history = [1, 2, 3, 4, 5].map((h) => sent(`2026-01-07T0${h}:00:00Z`, { category: 'onboarding' }))
    const d = decide(
      request({ category: 'onboarding' }),
      state({ history }),
      defaultGuardPolicy,
      new Date('2026-01-07T10:00:00Z'),
    )
    expect(nextAction(d)).toEqual({ action: 'retry', at: new Date('2026-01-08T01:00:00Z') })
    expect(summarize(d)).toBe(
      'capped: 5 messages in 1 day (rule "per day": max 5 messages per 1d), waits until 2026-01-08 02:00 (Europe/Paris)',
    )
  })

  it('historyHorizon: the runtime loads back to the longest cap or dedupe window', () => {
    const now = new Date('2026-01-08T00:00:00Z')
    expect(historyHorizon(request(), defaultGuardPolicy, now)).toEqual(new Date('2026-01-01T00:00:00Z'))
    const long = request({ dedupe: { key: 'yearly', window: '2w' } })
    expect(historyHorizon(long, defaultGuardPolicy, now)).toEqual(new Date('2025-12-25T00:00:00Z'))
    // Windows are written as everywhere else, combined units included.
    const mixed = request({ dedupe: { key: 'mixed', window: '1w1d12h' } })
    expect(historyHorizon(mixed, defaultGuardPolicy, now)).toEqual(new Date('2025-12-30T12:00:00Z'))
    expect(historyHorizon(request(), policy(), now)).toEqual(now)
  })
})
