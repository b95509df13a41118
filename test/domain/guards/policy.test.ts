import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { parse as parseYaml } from 'yaml'
import { NudgeError } from '../../../src/domain/errors.ts'
import {
  defaultGuardPolicy,
  parseGuardPolicy,
  safeParseGuardPolicy,
} from '../../../src/domain/guards/policy.ts'

describe('guard policy', () => {
  it('a workspace starts safe: caps, quiet hours and rate limits on', () => {
    expect(defaultGuardPolicy).toEqual({
      timezone: 'UTC',
      subscriptions: { requireOptIn: [] },
      dedupe: { window: '24h' },
      caps: [
        { name: 'marketing per week', max: 3, per: '7d', scope: 'marketing', mode: 'skip' },
        { name: 'per day', max: 5, per: '1d', scope: 'all', mode: 'wait' },
      ],
      quietHours: {
        enabled: true,
        start: '21:00',
        end: '08:00',
        mode: 'postpone',
        channels: ['email', 'sms', 'push', 'webhook'],
      },
      rateLimits: {
        email: { perSecond: 50, burst: 50 },
        webhook: { perSecond: 50, burst: 50 },
        sms: { perSecond: 10, burst: 10 },
        push: { perSecond: 100, burst: 100 },
        in_app: { perSecond: 500, burst: 500 },
      },
    })
  })

  it('reads the YAML example of docs/guards.md; what it leaves out keeps its default', () => {
    const policy = parseGuardPolicy(
      parseYaml(`
timezone: Europe/Paris
caps:
  - { name: marketing per week, max: 3, per: 7d, scope: marketing }
  - { max: 1, per: 1d, channel: sms, mode: wait }
quietHours:
  start: "21:30"
  end: "08:00"
  mode: postpone
rateLimits:
  sms: { perSecond: 1 }
  in_app: null
subscriptions:
  requireOptIn: [newsletter]
`),
    )
    expect(policy.caps[1]).toEqual({ max: 1, per: '1d', channel: 'sms', mode: 'wait', scope: 'all' })
    expect(policy.quietHours).toMatchObject({
      enabled: true,
      start: '21:30',
      channels: ['email', 'sms', 'push', 'webhook'],
    })
    expect(policy.rateLimits).toMatchObject({
      sms: { perSecond: 1, burst: 1 },
      in_app: null,
      email: { perSecond: 50 },
    })
    expect(policy.dedupe.window).toBe('24h')
  })

  it('the policy example in docs/guards.md is valid', () => {
    const doc = readFileSync(new URL('../../../docs/guards.md', import.meta.url), 'utf8')
    const example = /```yaml\n(timezone:[\s\S]*?)```/.exec(doc)?.[1]
    expect(example).toBeDefined()
    const policy = parseGuardPolicy(parseYaml(example ?? ''))
    expect(policy.caps).toHaveLength(3)
    expect(policy.rateLimits.in_app).toBeNull()
    expect(policy.rateLimits.sms).toEqual({ perSecond: 1, burst: 1 })
    expect(policy.subscriptions.requireOptIn).toEqual(['newsletter'])
  })

  it('turning things off is explicit: caps: [] and quietHours.enabled: false', () => {
    const policy = parseGuardPolicy({ caps: [], quietHours: { enabled: false } })
    expect(policy.caps).toEqual([])
    expect(policy.quietHours.enabled).toBe(false)
  })

  it.each([
    [
      { quietHours: { start: '9pm' } },
      'quietHours.start',
      'must be a time of day "HH:MM" (24-hour clock), such as "21:00"',
    ],
    [
      { quietHours: { start: '24:00' } },
      'quietHours.start',
      'must be a time of day "HH:MM" (24-hour clock), such as "21:00"',
    ],
    [
      { quietHours: { start: '08:00', end: '08:00' } },
      'quietHours.end',
      'start and end must differ (use enabled: false to turn quiet hours off)',
    ],
    [{ quietHours: { mode: 'later' } }, 'quietHours.mode', 'must be postpone or drop'],
    [
      { quietHours: { channels: ['fax'] } },
      'quietHours.channels.0',
      'must be one of email, webhook, sms, push, in_app',
    ],
    [
      { caps: [{ max: 3, per: 'a week' }] },
      'caps.0.per',
      'must be a duration such as "90s", "30m", "12h", "7d" or "2w"',
    ],
    [
      { caps: [{ max: 3, per: '0s' }] },
      'caps.0.per',
      'must be a duration such as "90s", "30m", "12h", "7d" or "2w"',
    ],
    [
      { dedupe: { window: 86_400_000 } },
      'dedupe.window',
      'must be a duration such as "90s", "30m", "12h", "7d" or "2w"',
    ],
    [{ caps: [{ max: 0, per: '7d' }] }, 'caps.0.max', 'must be at least 1 (use caps: [] for no cap)'],
    [{ caps: [{ max: 2.5, per: '7d' }] }, 'caps.0.max', 'must be a whole number'],
    [{ caps: [{ max: 3, per: '7d', mode: 'queue' }] }, 'caps.0.mode', 'must be skip or wait'],
    [{ timezone: 'Europe/Pariss' }, 'timezone', 'must be an IANA timezone such as "Europe/Paris" or "UTC"'],
    [{ rateLimits: { email: { perSecond: 0 } } }, 'rateLimits.email.perSecond', 'must be more than 0'],
    [{ quietHour: {} }, '(policy)', 'unknown field quietHour'],
    [{ caps: [{ max: 3, per: '7d', window: '7d' }] }, 'caps.0', 'unknown field window'],
  ])('rejects %j at %s: %s', (input, path, message) => {
    const result = safeParseGuardPolicy(input)
    expect(result).toEqual({ ok: false, issues: [{ path, message }] })
  })

  it('parseGuardPolicy throws NUDGE_ERR_VALIDATION listing every problem', () => {
    let error: unknown
    try {
      parseGuardPolicy({ timezone: 'Nowhere', caps: [{ max: 0, per: '7d' }] })
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(NudgeError)
    const e = error as NudgeError
    expect(e.code).toBe('NUDGE_ERR_VALIDATION')
    expect(e.issues.map((i) => i.path)).toEqual(['timezone', 'caps.0.max'])
    expect(e.message).toBe(
      'Invalid guard policy:\n  timezone: must be an IANA timezone such as "Europe/Paris" or "UTC"\n  caps.0.max: must be at least 1 (use caps: [] for no cap)',
    )
  })
})
