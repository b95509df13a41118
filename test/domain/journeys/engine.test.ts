import { describe, expect, it } from 'vitest'
import type { ProfileFacts } from '../../../src/domain/conditions/types.ts'
import type { Effect } from '../../../src/domain/journeys/effects.ts'
import { type AdvanceInput, advance, type EngineDeps } from '../../../src/domain/journeys/engine.ts'
import type { Run } from '../../../src/domain/journeys/run.ts'
import { runFromJSON, runToJSON } from '../../../src/domain/journeys/run.ts'
import type { Journey, Step } from '../../../src/domain/journeys/types.ts'
import { evaluate, MemoryHistory, profile } from '../../helpers/journey-conditions.ts'
import { event } from '../../helpers/journeys.ts'

const T0 = new Date('2026-01-05T09:00:00Z')
const at = (ms: number) => new Date(T0.getTime() + ms)
const MIN = 60_000
const HOUR = 60 * MIN
const DAY = 24 * HOUR

function journey(steps: Step[], over: Partial<Journey> = {}): Journey {
  return {
    id: 'j',
    name: 'J',
    trigger: { type: 'event', event: 'Signed Up' },
    entry: { type: 'every_time' },
    steps,
    ...over,
  }
}

function deps(over: Partial<ProfileFacts> = {}, history = new MemoryHistory()): EngineDeps {
  return { evaluate, profile: profile('ann', over), history }
}

const enter = (e = event('Signed Up', T0), runId = 'r1'): AdvanceInput => ({
  kind: 'enter',
  runId,
  version: 3,
  key: 'k',
  event: e,
})

const of = <T extends Effect['type']>(effects: readonly Effect[], type: T) =>
  effects.filter((e): e is Extract<Effect, { type: T }> => e.type === type)

/** Feeds timers as the scheduler would: at their time, until the run stops waiting. */
function drain(j: Journey, run: Run, d = deps(), limit = 20) {
  const sends: { template: string; at: string }[] = []
  let r = run
  for (let i = 0; i < limit && r.pending; i++) {
    const now = r.pending.until
    const out = advance(j, r, { kind: 'timer', timerId: r.pending.timerId }, now, d)
    for (const s of of(out.effects, 'send')) sends.push({ template: s.template, at: now.toISOString() })
    r = out.run
  }
  return { run: r, sends }
}

describe('advance: steps', () => {
  it('send: asks for a message with a key made of run, step and attempt', () => {
    const out = advance(
      journey([{ id: 'hello', type: 'send', channel: 'email', template: 'welcome' }]),
      null,
      enter(),
      T0,
      deps(),
    )
    expect(of(out.effects, 'send')).toEqual([
      expect.objectContaining({
        channel: 'email',
        template: 'welcome',
        stepId: 'hello',
        idempotencyKey: 'r1/hello/send/1',
      }),
    ])
    expect(out.run.status).toBe('completed')
    expect(out.run.version).toBe(3)
    expect(of(out.effects, 'emit_event').map((e) => [e.name, e.properties['reason'] ?? null])).toEqual([
      ['Journey Entered', null],
      ['Journey Exited', 'completed'],
    ])
    expect(out.trace.map((t) => t.message)).toEqual([
      'entered because Signed Up happened (key k)',
      'send welcome by email',
      'completed: all steps done',
    ])
  })

  it('delay: parks the run on a timer and goes on when it fires', () => {
    const j = journey([
      { id: 'd', type: 'delay', for: '2h' },
      { id: 's', type: 'send', channel: 'email', template: 'later' },
    ])
    const first = advance(j, null, enter(), T0, deps())
    expect(first.run.status).toBe('delayed')
    expect(first.run.cursor).toBe('d')
    expect(of(first.effects, 'schedule_timer')).toEqual([
      expect.objectContaining({ timerId: 'r1/d/timer/1', at: at(2 * HOUR), purpose: 'delay' }),
    ])
    expect(of(first.effects, 'send')).toEqual([])
    const second = advance(j, first.run, { kind: 'timer', timerId: 'r1/d/timer/1' }, at(2 * HOUR), deps())
    expect(of(second.effects, 'send').map((s) => s.template)).toEqual(['later'])
    expect(second.run.status).toBe('completed')
  })

  it('delay until a date trait minus an offset, and fails clearly when the trait is missing', () => {
    const j = journey([
      { id: 'd', type: 'delay', until: { trait: 'renewal_at', offset: '-7d' } },
      { id: 's', type: 'send', channel: 'email', template: 'renew' },
    ])
    const ok = advance(j, null, enter(), T0, deps({ traits: { renewal_at: '2026-02-01T10:00:00Z' } }))
    expect(ok.run.pending?.until.toISOString()).toBe('2026-01-25T10:00:00.000Z')
    const missing = advance(j, null, enter(), T0, deps())
    expect(missing.run.status).toBe('failed')
    expect(missing.run.outcome).toBe('failed: the delay cannot be computed: trait renewal_at is not a date')
    // A date already past does not hold the run back.
    const past = advance(j, null, enter(), T0, deps({ traits: { renewal_at: '2026-01-06T10:00:00Z' } }))
    expect(of(past.effects, 'send').map((s) => s.template)).toEqual(['renew'])
  })

  it('wait: the awaited event takes on_event, silence takes on_timeout', () => {
    const j = journey([
      {
        id: 'w',
        type: 'wait',
        for: { event: 'Contacts Uploaded' },
        timeout: '3d',
        on_event: [{ id: 'thanks', type: 'send', channel: 'email', template: 'thanks' }],
        on_timeout: [{ id: 'how', type: 'send', channel: 'email', template: 'how-to' }],
      },
      { id: 'after', type: 'send', channel: 'push', template: 'after' },
    ])
    const started = advance(j, null, enter(), T0, deps())
    expect(started.run.status).toBe('waiting')
    const got = advance(
      j,
      started.run,
      { kind: 'event', event: event('Contacts Uploaded', at(DAY)) },
      at(DAY),
      deps(),
    )
    expect(of(got.effects, 'cancel_timer').map((c) => c.timerId)).toEqual(['r1/w/timer/1'])
    expect(of(got.effects, 'send').map((s) => s.template)).toEqual(['thanks', 'after'])
    const other = advance(
      j,
      started.run,
      { kind: 'event', event: event('Logged In', at(DAY)) },
      at(DAY),
      deps(),
    )
    expect(other.effects).toEqual([])
    expect(other.run.status).toBe('waiting')
    const silent = advance(j, started.run, { kind: 'timer', timerId: 'r1/w/timer/1' }, at(3 * DAY), deps())
    expect(of(silent.effects, 'send').map((s) => s.template)).toEqual(['how-to', 'after'])
    expect(silent.trace.map((t) => t.kind)).toContain('timed_out')
  })

  it('wait: an event that arrives after the timeout was due (scheduler late) does not count', () => {
    const j = journey([
      {
        id: 'w',
        type: 'wait',
        for: { event: 'Paid' },
        timeout: '1h',
        on_timeout: [{ id: 'late', type: 'send', channel: 'email', template: 'late' }],
      },
    ])
    const started = advance(j, null, enter(), T0, deps())
    const out = advance(
      j,
      started.run,
      { kind: 'event', event: event('Paid', at(HOUR + MIN)) },
      at(HOUR + MIN),
      deps(),
    )
    expect(of(out.effects, 'send').map((s) => s.template)).toEqual(['late'])
    expect(of(out.effects, 'cancel_timer')).toHaveLength(1)
  })

  it('wait: correlation matches only the same key as the trigger event', () => {
    const j = journey(
      [
        {
          id: 'w',
          type: 'wait',
          for: { event: 'Booking Completed', correlate: 'properties.trip_id' },
          timeout: '30m',
          on_event: [{ type: 'exit', reason: 'booked' }],
          on_timeout: [{ id: 'mail', type: 'send', channel: 'email', template: 'finish' }],
        },
      ],
      { trigger: { type: 'event', event: 'Trip Searched' } },
    )
    const started = advance(j, null, enter(event('Trip Searched', T0, { trip_id: 42 })), T0, deps())
    expect(started.run.correlation).toEqual({ w: 42 })
    const other = advance(
      j,
      started.run,
      { kind: 'event', event: event('Booking Completed', at(MIN), { trip_id: 7 }) },
      at(MIN),
      deps(),
    )
    expect(other.run.status).toBe('waiting')
    // "42" and 42 are the same id coming from two sources.
    const same = advance(
      j,
      started.run,
      { kind: 'event', event: event('Booking Completed', at(MIN), { trip_id: '42' }) },
      at(MIN),
      deps(),
    )
    expect(same.run.status).toBe('exited')
    expect(same.run.outcome).toBe('exited: booked')
  })

  it('branch: first matching path wins, else otherwise, then the run goes on', () => {
    const j = journey([
      {
        id: 'b',
        type: 'branch',
        paths: [
          {
            name: 'pro',
            when: { type: 'trait', path: 'plan', op: 'eq', value: 'pro' },
            steps: [{ id: 'p', type: 'send', channel: 'email', template: 'pro' }],
          },
          {
            name: 'any-paid',
            when: { type: 'trait', path: 'plan', op: 'in', value: ['pro', 'team'] },
            steps: [{ id: 't', type: 'send', channel: 'email', template: 'team' }],
          },
        ],
        else: [{ id: 'f', type: 'send', channel: 'email', template: 'free' }],
      },
      { id: 'end', type: 'send', channel: 'email', template: 'all' },
    ])
    const sent = (plan?: string) =>
      of(advance(j, null, enter(), T0, deps({ traits: plan ? { plan } : {} })).effects, 'send').map(
        (s) => s.template,
      )
    expect(sent('pro')).toEqual(['pro', 'all'])
    expect(sent('team')).toEqual(['team', 'all'])
    expect(sent()).toEqual(['free', 'all'])
    const trace = advance(j, null, enter(), T0, deps({ traits: { plan: 'pro' } })).trace
    expect(trace.find((t) => t.kind === 'branch')?.message).toBe("branch 'pro' taken because plan = pro")
  })

  it('split: sticky per profile and close to its weights', () => {
    const j = journey([
      {
        id: 'ab',
        type: 'split',
        variants: [
          { name: 'a', weight: 80, steps: [{ id: 'sa', type: 'send', channel: 'email', template: 'a' }] },
          { name: 'b', weight: 20, steps: [{ id: 'sb', type: 'send', channel: 'email', template: 'b' }] },
        ],
      },
    ])
    const variant = (id: string, runId = 'r') =>
      of(
        advance(j, null, enter(undefined, runId), T0, { ...deps(), profile: profile(id) }).effects,
        'send',
      )[0]?.template
    // Sticky: another run of the same profile lands in the same variant.
    for (const id of ['ann', 'bob', 'cat']) expect(variant(id, 'r2')).toBe(variant(id, 'r1'))
    const counts = { a: 0, b: 0 }
    for (let i = 0; i < 2000; i++) counts[variant(`p${i}`) as 'a' | 'b']++
    expect(counts.a / 2000).toBeGreaterThan(0.76)
    expect(counts.a / 2000).toBeLessThan(0.84)
  })

  it('update and exit: profile changes, then the run ends and later steps never run', () => {
    const j = journey([
      {
        id: 'u',
        type: 'update',
        set: { onboarded: true },
        unset: ['trial'],
        points: 5,
        tags: { add: ['newcomer'] },
      },
      { id: 'x', type: 'exit', reason: 'done early' },
    ])
    const out = advance(j, null, enter(), T0, deps())
    expect(of(out.effects, 'update_profile')).toEqual([
      expect.objectContaining({
        set: { onboarded: true },
        unset: ['trial'],
        points: 5,
        addTags: ['newcomer'],
        idempotencyKey: 'r1/u/update/1',
      }),
    ])
    expect(out.run.status).toBe('exited')
    expect(of(out.effects, 'emit_event').at(-1)?.properties['reason']).toBe('done early')
  })
})

describe('advance: goal and exit end a run at once', () => {
  const j = journey(
    [
      { id: 'd', type: 'delay', for: '2d' },
      { id: 's', type: 'send', channel: 'email', template: 'tip' },
      { id: 'w', type: 'wait', for: { event: 'Replied' }, timeout: '5d' },
    ],
    { goal: { event: 'Guide Purchased', within: '14d' }, exit: [{ event: 'Unsubscribed' }] },
  )

  it('exit mid-delay cancels the timer and emits Journey Exited', () => {
    const started = advance(j, null, enter(), T0, deps())
    const out = advance(
      j,
      started.run,
      { kind: 'event', event: event('Unsubscribed', at(DAY)) },
      at(DAY),
      deps(),
    )
    expect(out.run.status).toBe('exited')
    expect(out.run.outcome).toBe('exited: Unsubscribed')
    expect(of(out.effects, 'cancel_timer').map((c) => c.timerId)).toEqual(['r1/d/timer/1'])
    // The timer, if it fires anyway, changes nothing.
    const late = advance(j, out.run, { kind: 'timer', timerId: 'r1/d/timer/1' }, at(2 * DAY), deps())
    expect(late.effects).toEqual([])
    expect(late.run).toBe(out.run)
  })

  it('goal mid-wait converts, attributed to the last message', () => {
    const started = advance(j, null, enter(), T0, deps())
    const sent = advance(j, started.run, { kind: 'timer', timerId: 'r1/d/timer/1' }, at(2 * DAY), deps())
    expect(sent.run.status).toBe('waiting')
    const out = advance(
      j,
      sent.run,
      { kind: 'event', event: event('Guide Purchased', at(3 * DAY)) },
      at(3 * DAY),
      deps(),
    )
    expect(out.run.status).toBe('converted')
    expect(of(out.effects, 'cancel_timer').map((c) => c.timerId)).toEqual(['r1/w/timer/1'])
    expect(of(out.effects, 'emit_event')).toEqual([
      expect.objectContaining({
        name: 'Journey Converted',
        properties: expect.objectContaining({ attributed_template: 'tip', attributed_step: 's' }),
      }),
    ])
  })

  it('after the steps, the run listens for the goal until its window closes', () => {
    const started = advance(j, null, enter(), T0, deps())
    const { run } = drain(j, started.run)
    expect(run.status).toBe('completed')
    expect(run.endedAt?.toISOString()).toBe(at(14 * DAY).toISOString())
    expect(run.outcome).toBe('completed: goal Guide Purchased not reached within 14d')
  })

  it('a goal outside its window does not count', () => {
    const long = journey([{ id: 'w', type: 'wait', for: { event: 'Replied' }, timeout: '30d' }], {
      goal: { event: 'Paid', within: '1d' },
    })
    const started = advance(long, null, enter(), T0, deps())
    const out = advance(
      long,
      started.run,
      { kind: 'event', event: event('Paid', at(2 * DAY)) },
      at(2 * DAY),
      deps(),
    )
    expect(out.run.status).toBe('waiting')
  })

  it('exit conditions are checked at entry and when a timer fires', () => {
    const k = journey(
      [
        { id: 'd', type: 'delay', for: '1d' },
        { id: 's', type: 'send', channel: 'email', template: 'x' },
      ],
      { exit: [{ condition: { type: 'trait', path: 'unsubscribed', op: 'eq', value: true } }] },
    )
    expect(advance(k, null, enter(), T0, deps({ traits: { unsubscribed: true } })).run.status).toBe('exited')
    const started = advance(k, null, enter(), T0, deps())
    const out = advance(
      k,
      started.run,
      { kind: 'timer', timerId: 'r1/d/timer/1' },
      at(DAY),
      deps({ traits: { unsubscribed: true } }),
    )
    expect(out.run.status).toBe('exited')
    expect(of(out.effects, 'send')).toEqual([])
    expect(of(out.effects, 'cancel_timer')).toEqual([]) // it is the timer that fired
  })
})

describe('advance: time', () => {
  it('a timer fired early (clock behind) keeps the run waiting and re-arms the same timer', () => {
    const j = journey([
      { id: 'd', type: 'delay', for: '1h' },
      { id: 's', type: 'send', channel: 'email', template: 'x' },
    ])
    const started = advance(j, null, enter(), T0, deps())
    const early = advance(
      j,
      started.run,
      { kind: 'timer', timerId: 'r1/d/timer/1' },
      at(HOUR - 5 * MIN),
      deps(),
    )
    expect(early.run.status).toBe('delayed')
    expect(of(early.effects, 'send')).toEqual([])
    expect(of(early.effects, 'schedule_timer')).toEqual([
      expect.objectContaining({ timerId: 'r1/d/timer/1', at: at(HOUR) }),
    ])
    expect(early.trace[0]?.kind).toBe('timer_early')
    // Even a clock far in the past changes nothing.
    const back = advance(
      j,
      started.run,
      { kind: 'timer', timerId: 'r1/d/timer/1' },
      new Date('2020-01-01T00:00:00Z'),
      deps(),
    )
    expect(back.run.pending).toEqual(started.run.pending)
  })

  it('delay in a weekday window, correct across the autumn DST change in New York', () => {
    const j = journey([
      {
        id: 'd',
        type: 'delay',
        for: '1d',
        window: { from: '09:00', to: '11:00', days: ['mon', 'tue', 'wed', 'thu', 'fri'] },
      },
      { id: 's', type: 'send', channel: 'email', template: 'x' },
    ])
    // Friday 30 Oct 2026 12:00 EDT (16:00Z). +1d = Saturday: next weekday 09:00 is Monday
    // 2 November, after clocks went back on Sunday 1 November: 09:00 EST = 14:00Z.
    const out = advance(
      j,
      null,
      enter(),
      new Date('2026-10-30T16:00:00Z'),
      deps({ timezone: 'America/New_York' }),
    )
    expect(out.run.pending?.until.toISOString()).toBe('2026-11-02T14:00:00.000Z')
    expect(out.trace.find((t) => t.kind === 'delayed')?.message).toBe(
      'waiting until 2026-11-02 09:00 America/New_York (delay 1d then 09:00–11:00 on mon, tue, wed, thu, fri)',
    )
  })

  it('a window in the night when clocks go forward lands on the shifted time', () => {
    const j = journey([{ id: 'd', type: 'delay', window: { from: '02:30', to: '04:00' } }])
    // 29 March 2026, Paris: 02:00 → 03:00. 02:30 does not exist; like Temporal's
    // "compatible" rule it moves forward by the gap, to 03:30 CEST.
    const out = advance(
      j,
      null,
      enter(),
      new Date('2026-03-28T23:00:00Z'),
      deps({ timezone: 'Europe/Paris' }),
    )
    expect(out.run.pending?.until.toISOString()).toBe('2026-03-29T01:30:00.000Z')
  })
})

describe('advance: replays', () => {
  it('the same input on the same run gives the same effects and keys', () => {
    const j = journey(
      [
        {
          id: 'w',
          type: 'wait',
          for: { event: 'Paid' },
          timeout: '1d',
          on_timeout: [{ id: 'm', type: 'send', channel: 'email', template: 'm' }],
        },
        { id: 'u', type: 'update', points: 1 },
      ],
      { goal: { event: 'Paid', within: '3d' } },
    )
    const input = enter()
    const a = advance(j, null, input, T0, deps())
    const b = advance(j, null, input, T0, deps())
    expect(b).toEqual(a)
    // A run stored as JSON and read back resumes the same way.
    const restored = runFromJSON(JSON.parse(JSON.stringify(runToJSON(a.run))))
    expect(restored).toEqual(a.run)
    const t1 = advance(j, a.run, { kind: 'timer', timerId: 'r1/w/timer/1' }, at(DAY), deps())
    const t2 = advance(j, restored, { kind: 'timer', timerId: 'r1/w/timer/1' }, at(DAY), deps())
    expect(t2.effects).toEqual(t1.effects)
    expect(t1.effects.map((e) => e.idempotencyKey)).toEqual([
      'r1/m/send/1',
      'r1/u/update/1',
      'r1/goal/timer/1',
    ])
  })

  it('a condition that throws fails that run with the reason in its trace', () => {
    const j = journey([
      {
        id: 'b',
        type: 'branch',
        paths: [{ name: 'x', when: { type: 'score', op: 'gt', value: 1 }, steps: [] }],
      },
    ])
    // An evaluator that breaks (a bug, a missing prefetch) must fail this run only.
    const broken: EngineDeps = {
      ...deps(),
      evaluate: () => {
        throw new Error('history for score not prefetched')
      },
    }
    const out = advance(j, null, enter(), T0, broken)
    expect(out.run.status).toBe('failed')
    expect(out.run.outcome).toBe('failed: history for score not prefetched')
  })
})
