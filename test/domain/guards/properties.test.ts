// Properties over generated requests, states, policies and instants (fast-check).
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decide } from '../../../src/domain/guards/decide.ts'
import { type GuardPolicyInput, parseGuardPolicy } from '../../../src/domain/guards/policy.ts'
import {
  CHANNELS,
  GUARDS,
  type MessageRecord,
  type SendRequest,
  SUPPRESSION_KINDS,
} from '../../../src/domain/guards/types.ts'

// Named for their oddities: half- and quarter-hour offsets, 30-minute DST (Lord Howe),
// southern-hemisphere DST, a skipped calendar day (Apia, 2011), and names Intl rejects.
const ZONES = [
  'Europe/Paris',
  'America/New_York',
  'Asia/Kolkata',
  'Pacific/Auckland',
  'Australia/Lord_Howe',
  'Asia/Kathmandu',
  'Pacific/Chatham',
  'America/St_Johns',
  'America/Sao_Paulo',
  'Africa/Casablanca',
  'Pacific/Apia',
  'UTC',
]
// 2026 DST transitions (UTC): instants near them are where wall-clock arithmetic goes wrong.
const TRANSITIONS: Record<string, readonly string[]> = {
  'Europe/Paris': ['2026-03-29T01:00:00Z', '2026-10-25T01:00:00Z'],
  'America/New_York': ['2026-03-08T07:00:00Z', '2026-11-01T06:00:00Z'],
  'Pacific/Auckland': ['2026-04-04T14:00:00Z', '2026-09-26T14:00:00Z'],
  'Pacific/Chatham': ['2026-04-04T14:00:00Z', '2026-09-26T14:00:00Z'],
  'Australia/Lord_Howe': ['2026-04-04T15:00:00Z', '2026-10-03T15:30:00Z'],
}
const nearTransition = fc
  .constantFrom(
    ...Object.entries(TRANSITIONS).flatMap(([tz, ts]) => ts.map((t) => [tz, Date.parse(t)] as const)),
  )
  .chain(([tz, t]) =>
    fc.record({
      zone: fc.constant(tz),
      now: fc.integer({ min: t - 30 * 3_600_000, max: t + 30 * 3_600_000 }),
    }),
  )
const zone = fc.constantFrom(...ZONES, 'Not/AZone', '')
const instant = fc.integer({
  min: Date.parse('1990-01-01T00:00:00Z'),
  max: Date.parse('2060-01-01T00:00:00Z'),
})
const hhmm = fc
  .tuple(fc.integer({ min: 0, max: 23 }), fc.constantFrom(0, 15, 30, 45, 59))
  .map(([h, m]) => `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`)
const channel = fc.constantFrom(...CHANNELS)
const category = fc.constantFrom('marketing', 'onboarding', 'moderation')
const duration = fc.constantFrom('1s', '30m', '2h', '1d', '7d', '2w')

const policyInput: fc.Arbitrary<GuardPolicyInput> = fc
  .record({
    timezone: fc.constantFrom(...ZONES),
    caps: fc.array(
      fc.record({
        max: fc.integer({ min: 1, max: 4 }),
        per: duration,
        scope: fc.constantFrom('all', 'marketing', 'onboarding'),
        channel: fc.option(channel, { nil: undefined }),
        mode: fc.constantFrom('skip' as const, 'wait' as const),
      }),
      { maxLength: 3 },
    ),
    quietHours: fc.record({
      enabled: fc.boolean(),
      start: hhmm,
      end: hhmm,
      mode: fc.constantFrom('postpone' as const, 'drop' as const),
    }),
  })
  .filter((p) => p.quietHours.start !== p.quietHours.end)
  .map(({ caps, ...rest }) => ({
    ...rest,
    caps: caps.map(({ channel: c, ...cap }) => (c ? { ...cap, channel: c } : cap)),
  }))

const sendRequest: fc.Arbitrary<SendRequest> = fc
  .record({
    timezone: fc.option(zone, { nil: null }),
    channel,
    topic: fc.option(fc.constantFrom('tips', 'news'), { nil: null }),
    category,
    transactional: fc.boolean(),
    key: fc.option(fc.constantFrom('a', 'b'), { nil: null }),
    window: fc.option(fc.constantFrom('10m', '1d', 'bad'), { nil: undefined }),
  })
  .map((r) => ({
    workspaceId: 'ws',
    messageId: 'self',
    profile: { profileId: 'p', timezone: r.timezone },
    channel: r.channel,
    topic: r.topic,
    category: r.category,
    transactional: r.transactional,
    ...(r.key ? { dedupe: r.window ? { key: r.key, window: r.window } : { key: r.key } } : {}),
  }))

const record = (now: number): fc.Arbitrary<MessageRecord> =>
  fc.record({
    messageId: fc.constantFrom('self', 'm1', 'm2', 'm3'),
    status: fc.constantFrom('sent' as const, 'pending' as const),
    at: fc.integer({ min: -20 * 86_400_000, max: 60_000 }).map((d) => new Date(now + d)),
    channel,
    category,
    transactional: fc.boolean(),
    dedupeKey: fc.option(fc.constantFrom('a', 'b'), { nil: null }),
  })

const scenario = instant.chain((now) =>
  fc.record({
    now: fc.constant(now),
    request: sendRequest,
    policy: policyInput,
    history: fc.array(record(now), { maxLength: 12 }),
    suppressions: fc.array(
      fc.record({
        kind: fc.constantFrom(...SUPPRESSION_KINDS),
        channel: fc.option(channel, { nil: null }),
        at: fc.constant(new Date(now - 86_400_000)),
      }),
      { maxLength: 2 },
    ),
    preferences: fc.array(
      fc.record({
        topic: fc.constantFrom('*', 'tips', 'news'),
        channel: fc.constantFrom('*' as const, ...CHANNELS),
        subscribed: fc.boolean(),
        updatedAt: fc.integer({ min: 1, max: 5 }).map((d) => new Date(now - d * 86_400_000)),
      }),
      { maxLength: 3 },
    ),
  }),
)

/** HH:MM on the member's clock, read independently of the code under test. */
function localMinutes(at: Date, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone,
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  })
    .formatToParts(at)
    .reduce<Record<string, string>>((acc, p) => Object.assign(acc, { [p.type]: p.value }), {})
  return Number(parts.hour) * 60 + Number(parts.minute)
}
const minutesOf = (hm: string) => Number(hm.slice(0, 2)) * 60 + Number(hm.slice(3))
function quiet(minutes: number, start: string, end: string): boolean {
  const s = minutesOf(start)
  const e = minutesOf(end)
  return s < e ? minutes >= s && minutes < e : minutes >= s || minutes < e
}

describe('decide: properties', () => {
  it('is total: any valid input gives one of the outcomes, verdicts in guard order, the last one deciding', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const p = parseGuardPolicy(s.policy)
        const d = decide(
          s.request,
          { history: s.history, suppressions: s.suppressions, preferences: s.preferences },
          p,
          new Date(s.now),
        )
        const order = d.verdicts.map((v) => GUARDS.indexOf(v.guard))
        expect(order).toEqual([...order].sort((a, b) => a - b))
        expect(new Set(order).size).toBe(order.length)
        if (d.outcome === 'send') {
          expect(d.verdicts).toHaveLength(GUARDS.length)
          expect(d.verdicts.some((v) => v.result === 'blocked')).toBe(false)
        } else {
          expect(d.verdicts.at(-1)?.result).toBe('blocked')
          expect(d.verdicts.slice(0, -1).some((v) => v.result === 'blocked')).toBe(false)
        }
        for (const v of d.verdicts) expect(v.message.length).toBeGreaterThan(0)
      }),
      { numRuns: 400 },
    )
  })

  it('does not depend on the order the runtime loads history in', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const p = parseGuardPolicy(s.policy)
        const st = { history: s.history, suppressions: s.suppressions, preferences: s.preferences }
        const reversed = {
          ...st,
          history: [...s.history].reverse(),
          preferences: [...s.preferences].reverse(),
        }
        expect(decide(s.request, reversed, p, new Date(s.now))).toEqual(
          decide(s.request, st, p, new Date(s.now)),
        )
      }),
      { numRuns: 200 },
    )
  })

  it('a deferred message: until is after now, outside quiet hours, and the earliest such time (to the second)', () => {
    const quietCase = fc
      .tuple(
        fc.oneof(fc.record({ zone: fc.constantFrom(...ZONES), now: instant }), nearTransition),
        hhmm,
        hhmm,
      )
      .map(([at, start, end]) => ({ ...at, start, end }))
    fc.assert(
      fc.property(
        quietCase.filter((c) => c.start !== c.end),
        ({ now, zone: tz, start, end }) => {
          const p = parseGuardPolicy({ caps: [], quietHours: { start, end } })
          const req: SendRequest = {
            workspaceId: 'ws',
            messageId: 'self',
            profile: { profileId: 'p', timezone: tz },
            channel: 'email',
            topic: null,
            category: 'marketing',
            transactional: false,
          }
          const d = decide(req, { history: [], suppressions: [], preferences: [] }, p, new Date(now))
          const quietNow = quiet(localMinutes(new Date(now), tz), start, end)
          expect(d.outcome).toBe(quietNow ? 'deferred' : 'send')
          if (d.outcome !== 'deferred') return
          const until = d.until.getTime()
          expect(until).toBeGreaterThan(now)
          expect(quiet(localMinutes(d.until, tz), start, end)).toBe(false)
          // One second earlier is still quiet (or not after now): nothing is postponed longer than needed.
          const before = until - 1000
          if (before > now) expect(quiet(localMinutes(new Date(before), tz), start, end)).toBe(true)
          // Usually within a day; two when the only allowed half-hour of a day is the one DST skips.
          expect(until - now).toBeLessThanOrEqual(49 * 3_600_000)
        },
      ),
      { numRuns: 1500 },
    )
  })

  it('caps hold: replaying random sends, no rule ever sees more than max sends in its window', () => {
    const step = fc.record({
      gapMs: fc.integer({ min: 0, max: 12 * 3_600_000 }),
      channel,
      category,
      transactional: fc.boolean(),
    })
    fc.assert(
      fc.property(policyInput, fc.array(step, { minLength: 1, maxLength: 40 }), (input, steps) => {
        const p = parseGuardPolicy({ ...input, quietHours: { enabled: false } })
        const history: MessageRecord[] = []
        let now = Date.parse('2026-01-05T00:00:00Z')
        steps.forEach((s, i) => {
          now += s.gapMs
          const req: SendRequest = {
            workspaceId: 'ws',
            messageId: `m${i}`,
            profile: { profileId: 'p', timezone: 'UTC' },
            channel: s.channel,
            topic: null,
            category: s.category,
            transactional: s.transactional,
          }
          const d = decide(req, { history, suppressions: [], preferences: [] }, p, new Date(now))
          if (d.outcome !== 'send') return
          history.push({ ...req, status: 'sent', at: new Date(now), dedupeKey: null })
          for (const rule of p.caps) {
            const per =
              { '1s': 1e3, '30m': 18e5, '2h': 72e5, '1d': 864e5, '7d': 6048e5, '2w': 12096e5 }[rule.per] ?? 0
            const inWindow = history.filter(
              (m) =>
                !m.transactional &&
                (rule.scope === 'all' || m.category === rule.scope) &&
                (!rule.channel || m.channel === rule.channel) &&
                m.at.getTime() > now - per,
            )
            expect(inWindow.length).toBeLessThanOrEqual(rule.max)
          }
        })
      }),
      { numRuns: 300 },
    )
  })
})
