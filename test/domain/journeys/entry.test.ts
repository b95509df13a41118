import { describe, expect, it } from 'vitest'
import {
  decideEntry,
  type EntryHistory,
  entryHistory,
  type PastEntry,
} from '../../../src/domain/journeys/entry.ts'
import { matchesTrigger } from '../../../src/domain/journeys/trigger.ts'
import type { Journey, Trigger } from '../../../src/domain/journeys/types.ts'
import { evaluate, MemoryHistory, profile } from '../../helpers/journey-conditions.ts'
import { event } from '../../helpers/journeys.ts'

const now = new Date('2026-01-10T12:00:00Z')
const j = (entry: Journey['entry']): Journey => ({
  id: 'j',
  name: 'J',
  trigger: { type: 'event', event: 'X' },
  entry,
  steps: [{ type: 'exit' }],
})
const ago = (h: number) => new Date(now.getTime() - h * 3_600_000)

describe('decideEntry', () => {
  it('once: the first trigger enters, any later one is skipped', () => {
    expect(decideEntry(j({ type: 'once' }), event('X', now), [], now)).toEqual({ enter: true, key: 'once' })
    const d = decideEntry(j({ type: 'once' }), event('X', now), [{ key: 'once', enteredAt: ago(100) }], now)
    expect(d.enter).toBe(false)
    if (!d.enter) expect(d.reason).toBe('already_entered')
  })

  it('every_time: one run per event, keyed by the event id', () => {
    const e = event('X', now)
    expect(decideEntry(j({ type: 'every_time' }), e, [{ key: 'event:old', enteredAt: ago(1) }], now)).toEqual(
      {
        enter: true,
        key: `event:${e.id}`,
      },
    )
  })

  it('once_per_key: the key is rendered from the event; a missing value skips with the reason', () => {
    const rule = j({ type: 'once_per_key', key: 'comment-{{ event.properties.comment_id }}' })
    expect(decideEntry(rule, event('X', now, { comment_id: 42 }), [], now)).toEqual({
      enter: true,
      key: 'comment-42',
    })
    const again = decideEntry(
      rule,
      event('X', now, { comment_id: 42 }),
      [{ key: 'comment-42', enteredAt: ago(1) }],
      now,
    )
    expect(again.enter ? null : again.trace.message).toBe('skipped: already entered for key comment-42')
    const missing = decideEntry(rule, event('X', now), [], now)
    expect(missing.enter ? null : missing.reason).toBe('missing_key')
  })

  it('at_most N per rolling period counts the entries inside the window only', () => {
    const rule = j({ type: 'every_time', at_most: { count: 2, per: '1d' } })
    const two = [
      { key: 'a', enteredAt: ago(23) },
      { key: 'b', enteredAt: ago(2) },
    ]
    expect(decideEntry(rule, event('X', now), two, now).enter).toBe(false)
    const oneOld = [
      { key: 'a', enteredAt: ago(25) },
      { key: 'b', enteredAt: ago(2) },
    ]
    expect(decideEntry(rule, event('X', now), oneOld, now).enter).toBe(true)
  })
})

describe('entryHistory: the earlier entries a rule needs', () => {
  const withTrigger = (entry: Journey['entry'], trigger: Trigger): Journey => ({ ...j(entry), trigger })
  const date: Trigger = { type: 'date', trait: 'renewal_at', offset: '-7d' }

  it('names the part of the history each rule reads', () => {
    expect(entryHistory(j({ type: 'once' }))).toEqual({ kind: 'first' })
    expect(entryHistory(j({ type: 'every_time' }))).toEqual({ kind: 'none' })
    expect(entryHistory(j({ type: 'every_time', at_most: { count: 1, per: '1d' } }))).toEqual({
      kind: 'since',
      ms: 86_400_000,
    })
    expect(entryHistory(withTrigger({ type: 'every_time' }, date))).toEqual({ kind: 'all' })
    expect(entryHistory(j({ type: 'once_per_key', key: '{{ event.properties.id }}' }))).toEqual({
      kind: 'all',
    })
  })

  /** What the store reads for `need` out of the whole history (ordered by entry time). */
  const read = (need: EntryHistory, all: readonly PastEntry[]): PastEntry[] => {
    switch (need.kind) {
      case 'none':
        return []
      case 'first':
        return all.slice(0, 1)
      case 'since':
        return all.filter((p) => p.enteredAt.getTime() > now.getTime() - need.ms)
      case 'all':
        return [...all]
    }
  }

  it('decides as with the whole history, for every rule and many histories', () => {
    const rules: Journey[] = [
      j({ type: 'once' }),
      j({ type: 'every_time' }),
      j({ type: 'every_time', at_most: { count: 2, per: '1d' } }),
      j({ type: 'once_per_key', key: 'c-{{ event.properties.comment_id }}' }),
      j({
        type: 'once_per_key',
        key: 'c-{{ event.properties.comment_id }}',
        at_most: { count: 1, per: '7d' },
      }),
      withTrigger({ type: 'every_time' }, date),
    ]
    let seed = 7
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648
      return seed / 2_147_483_648
    }
    // The decision, and the runtime's check that the key was not entered already.
    const outcome = (rule: Journey, e: ReturnType<typeof event>, past: readonly PastEntry[]) => {
      const d = decideEntry(rule, e, past, now)
      return d.enter ? { ...d, again: past.some((p) => p.key === d.key) } : d
    }
    const seen = new Set<string>()
    for (let round = 0; round < 200; round++) {
      const e = event('X', now, { comment_id: Math.floor(random() * 4) })
      const all = Array.from({ length: Math.floor(random() * 6) }, () => ({
        key: random() < 0.2 ? `event:${e.id}` : `c-${Math.floor(random() * 4)}`,
        enteredAt: ago(random() * 24 * 10),
      })).sort((a, b) => a.enteredAt.getTime() - b.enteredAt.getTime())
      for (const rule of rules) {
        // An event trigger's own key is never in a real history: its event is new.
        const real = rule.trigger.type === 'event' ? all.filter((p) => p.key !== `event:${e.id}`) : all
        const whole = outcome(rule, e, real)
        expect(outcome(rule, e, read(entryHistory(rule), real))).toEqual(whole)
        seen.add(whole.enter ? `enter${'again' in whole && whole.again ? ' again' : ''}` : whole.reason)
      }
    }
    // The histories drawn reach every kind of decision.
    expect([...seen].sort()).toEqual([
      'already_entered',
      'already_entered_for_key',
      'enter',
      'enter again',
      'rate_limited',
    ])
  })
})

describe('matchesTrigger', () => {
  const ctx = { now, profile: profile('ann'), event: null, history: new MemoryHistory(), stages: [] }
  const facts = (e = event('identify', now), before = {}, after = {}) => ({
    event: e,
    previousTraits: before,
    traits: after,
  })
  const m = (t: Trigger, f: ReturnType<typeof facts>) => matchesTrigger(t, f, evaluate, ctx)

  it('event with a filter', () => {
    const t: Trigger = {
      type: 'event',
      event: 'Post Created',
      where: [{ path: 'properties.forum', op: 'eq', value: 'a' }],
    }
    expect(m(t, facts(event('Post Created', now, { forum: 'a' })))).toBe(true)
    expect(m(t, facts(event('Post Created', now, { forum: 'b' })))).toBe(false)
  })

  it('segment entered / exited are the internal events', () => {
    const t: Trigger = { type: 'segment', segment: 'active', on: 'entered' }
    expect(m(t, facts(event('Segment Entered', now, { segment: 'active' })))).toBe(true)
    expect(m(t, facts(event('Segment Exited', now, { segment: 'active' })))).toBe(false)
  })

  it('trait changed (to a value) and crossed a threshold, in either direction', () => {
    expect(
      m(
        { type: 'trait_changed', trait: 'plan', to: 'pro' },
        facts(undefined, { plan: 'free' }, { plan: 'pro' }),
      ),
    ).toBe(true)
    expect(
      m({ type: 'trait_changed', trait: 'plan' }, facts(undefined, { plan: 'pro' }, { plan: 'pro' })),
    ).toBe(false)
    const up: Trigger = { type: 'trait_crossed', trait: 'points', threshold: 100 }
    expect(m(up, facts(undefined, { points: 90 }, { points: 120 }))).toBe(true)
    expect(m(up, facts(undefined, { points: 110 }, { points: 120 }))).toBe(false)
    const down: Trigger = { type: 'trait_crossed', trait: 'points', threshold: 10, direction: 'down' }
    expect(m(down, facts(undefined, { points: 12 }, { points: 3 }))).toBe(true)
  })
})
