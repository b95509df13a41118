import { describe, expect, it } from 'vitest'
import { type Identity, type KnownProfile, planIdentity } from '../../src/domain/profiles/identity.ts'
import { applyEvent, counterName } from '../../src/domain/profiles/state.ts'
import { canonicalTimezone } from '../../src/domain/profiles/timezone.ts'
import { mergeTraits } from '../../src/domain/profiles/traits.ts'

const known = (map: Record<string, KnownProfile>) => (i: Identity) => map[`${i.kind}:${i.value}`]
const input = (
  type: string,
  userId: string | null,
  anonymousId: string | null,
  previousId: string | null = null,
) => ({
  type,
  userId,
  anonymousId,
  previousId,
})

describe('identity planning', () => {
  it('creates a profile for unknown identities', () => {
    expect(planIdentity(input('track', null, 'a1'), known({}))).toEqual({
      kind: 'create',
      userId: null,
      attach: [{ kind: 'anonymous_id', value: 'a1' }],
    })
    expect(planIdentity(input('identify', 'u1', 'a1'), known({}))).toEqual({
      kind: 'create',
      userId: 'u1',
      attach: [
        { kind: 'user_id', value: 'u1' },
        { kind: 'anonymous_id', value: 'a1' },
      ],
    })
  })

  it('identifies an anonymous profile in place when the userId is new', () => {
    const plan = planIdentity(
      input('identify', 'u1', 'a1'),
      known({ 'anonymous_id:a1': { profileId: 'P', userId: null } }),
    )
    expect(plan).toEqual({
      kind: 'use',
      profileId: 'P',
      attach: [{ kind: 'user_id', value: 'u1' }],
      setUserId: 'u1',
    })
  })

  it('merges an anonymous profile into the known user, but never another known user', () => {
    const user = { profileId: 'U', userId: 'u1' }
    expect(
      planIdentity(
        input('identify', 'u1', 'a1'),
        known({ 'user_id:u1': user, 'anonymous_id:a1': { profileId: 'A', userId: null } }),
      ),
    ).toEqual({ kind: 'merge', source: 'A', target: 'U', attach: [] })
    expect(
      planIdentity(
        input('track', 'u1', 'a1'),
        known({ 'user_id:u1': user, 'anonymous_id:a1': { profileId: 'V', userId: 'u2' } }),
      ),
    ).toEqual({ kind: 'use', profileId: 'U', attach: [], setUserId: null })
  })

  it('alias merges even two identified profiles, and remembers an unknown previousId', () => {
    expect(
      planIdentity(
        input('alias', 'new', null, 'old'),
        known({
          'user_id:new': { profileId: 'N', userId: 'new' },
          'user_id:old': { profileId: 'O', userId: 'old' },
        }),
      ),
    ).toEqual({ kind: 'merge', source: 'O', target: 'N', attach: [] })
    expect(
      planIdentity(
        input('alias', 'new', null, 'old'),
        known({ 'user_id:new': { profileId: 'N', userId: 'new' } }),
      ),
    ).toEqual({
      kind: 'use',
      profileId: 'N',
      attach: [{ kind: 'anonymous_id', value: 'old' }],
      setUserId: null,
    })
  })

  it('rejects events without any identity', () => {
    expect(() => planIdentity(input('track', null, null), known({}))).toThrow(
      /neither userId nor anonymousId/,
    )
  })
})

describe('traits, counters and timezone', () => {
  it('merges top-level keys, replaces nested values whole, clears on null', () => {
    expect(mergeTraits({ a: 1, b: { x: 1, y: 2 }, c: 3 }, { b: { x: 5 }, c: null, d: [1] })).toEqual({
      a: 1,
      b: { x: 5 },
      d: [1],
    })
    expect(mergeTraits({ a: 1 }, 'not an object')).toEqual({ a: 1 })
  })

  it('names counters after the event; page and screen have fixed names', () => {
    expect(counterName({ type: 'track', name: 'Post Created' })).toBe('Post Created')
    expect(counterName({ type: 'page', name: 'Pricing' })).toBe('Page Viewed')
    expect(counterName({ type: 'screen', name: null })).toBe('Screen Viewed')
    expect(counterName({ type: 'identify', name: null })).toBeNull()
  })

  it('accepts IANA names only, canonicalised', () => {
    expect(canonicalTimezone('europe/paris')).toBe('Europe/Paris')
    expect(canonicalTimezone('UTC')).toBe('UTC')
    expect(canonicalTimezone('+02:00')).toBeNull()
    expect(canonicalTimezone('Mars/Olympus')).toBeNull()
    expect(canonicalTimezone(42)).toBeNull()
  })

  it('widens first/last seen with late events and never moves them inward', () => {
    const state = {
      traits: {},
      timezone: null,
      firstSeenAt: new Date('2026-01-02T00:00:00Z'),
      lastSeenAt: new Date('2026-01-03T00:00:00Z'),
    }
    const late = applyEvent(state, {
      type: 'track',
      name: 'X',
      timestamp: new Date('2026-01-01T00:00:00Z'),
      payload: {},
    })
    expect([late.firstSeenAt.toISOString(), late.lastSeenAt.toISOString()]).toEqual([
      '2026-01-01T00:00:00.000Z',
      '2026-01-03T00:00:00.000Z',
    ])
  })
})
