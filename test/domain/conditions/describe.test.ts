// The sentences a community manager reads in the UI, the trace and `nudge why`.
import { describe, expect, it } from 'vitest'
import { FakeClock } from '../../../src/domain/clock.ts'
import { describeCondition } from '../../../src/domain/conditions/describe.ts'
import { explain, reason, why } from '../../../src/domain/conditions/explain.ts'
import type { Condition } from '../../../src/domain/conditions/types.ts'
import { context, event } from './facts.ts'

describe('describeCondition', () => {
  it.each([
    [
      { type: 'performed', event: 'Contacts Uploaded', within: '3d', max: 0 },
      'has not performed Contacts Uploaded in the last 3 days',
    ],
    [{ type: 'performed', event: 'Signed Up' }, 'has performed Signed Up'],
    [
      { type: 'performed', event: 'Post Created', within: '1w', min: 3 },
      'has performed Post Created at least 3 times in the last 1 week',
    ],
    [{ type: 'performed', event: 'Post Created', min: 1, max: 1 }, 'has performed Post Created exactly once'],
    [{ type: 'performed', event: 'Post Created', max: 2 }, 'has performed Post Created at most twice'],
    [
      { type: 'performed', event: 'Post Created', min: 2, max: 5 },
      'has performed Post Created between 2 and 5 times',
    ],
    [
      {
        type: 'performed',
        event: 'Post Created',
        where: [{ path: 'properties.forum', op: 'eq', value: 'photo-beginners' }],
        between: { from: '2026-01-01', to: '2026-02-01' },
      },
      'has performed Post Created where properties.forum is photo-beginners between 2026-01-01 and 2026-02-01',
    ],
    [{ type: 'trait', path: 'plan', op: 'eq', value: 'pro' }, 'plan is pro'],
    [{ type: 'trait', path: 'plan', op: 'ne', value: 'pro' }, 'plan is not pro'],
    [{ type: 'trait', path: 'age', op: 'gt', value: 30 }, 'age is greater than 30'],
    [{ type: 'trait', path: 'age', op: 'gte', value: 30 }, 'age is at least 30'],
    [{ type: 'trait', path: 'age', op: 'lt', value: 30 }, 'age is less than 30'],
    [{ type: 'trait', path: 'age', op: 'lte', value: 30 }, 'age is at most 30'],
    [{ type: 'trait', path: 'renewal_at', op: 'gt', value: '2026-01-01' }, 'renewal_at is after 2026-01-01'],
    [
      { type: 'trait', path: 'email', op: 'contains', value: '@acme.com', ignoreCase: true },
      'email contains @acme.com (ignoring case)',
    ],
    [{ type: 'trait', path: 'tags', op: 'not_contains', value: 'beta' }, 'tags does not contain beta'],
    [{ type: 'trait', path: 'email', op: 'exists' }, 'email is set'],
    [{ type: 'trait', path: 'email', op: 'not_exists' }, 'email is not set'],
    [
      { type: 'trait', path: 'plan', op: 'in', value: ['pro', 'team', 'enterprise'] },
      'plan is pro, team or enterprise',
    ],
    [{ type: 'trait', path: 'plan', op: 'not_in', value: ['pro', 'team'] }, 'plan is neither pro nor team'],
    [
      { type: 'trait', path: 'renewal_at', op: 'before', value: '2026-06-01' },
      'renewal_at is before 2026-06-01',
    ],
    [
      { type: 'trait', path: 'renewal_at', op: 'after', value: '2026-06-01' },
      'renewal_at is after 2026-06-01',
    ],
    [
      { type: 'trait', path: 'renewal_at', op: 'within_next', value: '7d' },
      'renewal_at is within the next 7 days',
    ],
    [
      { type: 'trait', path: 'signed_up_at', op: 'within_last', value: '1d12h' },
      'signed_up_at is within the last 1 day 12 hours',
    ],
    [
      { type: 'event', path: 'properties.forum', op: 'eq', value: 'photo-beginners' },
      'event properties.forum is photo-beginners',
    ],
    [{ type: 'first_seen', op: 'within_last', value: '7d' }, 'was first seen in the last 7 days'],
    [{ type: 'last_seen', op: 'before', value: '2026-01-01' }, 'was last seen before 2026-01-01'],
    [{ type: 'segment', segment: 'vip', member: true }, 'is in segment vip'],
    [{ type: 'segment', segment: 'vip', member: false }, 'is not in segment vip'],
    [{ type: 'stage', op: 'gte', stage: 'member' }, 'stage is at least member'],
    [{ type: 'badge', badge: 'helper', has: false }, 'does not have badge helper'],
    [{ type: 'score', op: 'gte', value: 50 }, 'score is at least 50'],
    [{ type: 'all', conditions: [] }, 'always'],
    [{ type: 'any', conditions: [] }, 'never'],
    [
      { type: 'not', condition: { type: 'not', condition: { type: 'badge', badge: 'x', has: true } } },
      'has badge x',
    ],
    [
      {
        type: 'all',
        conditions: [
          { type: 'trait', path: 'plan', op: 'eq', value: 'pro' },
          {
            type: 'any',
            conditions: [
              { type: 'badge', badge: 'helper', has: true },
              { type: 'not', condition: { type: 'segment', segment: 'churn-risk', member: true } },
            ],
          },
        ],
      },
      'plan is pro and (has badge helper or not (is in segment churn-risk))',
    ],
  ] as [Condition, string][])('%j reads "%s"', (cond, text) => {
    expect(describeCondition(cond)).toBe(text)
  })
})

describe('explain and reason', () => {
  const clock = new FakeClock('2026-01-08T09:00:00Z')
  const ctx = context(clock, {
    profile: { traits: { plan: 'pro', country: 'FR' }, badges: new Set(['helper']), score: 12.3456 },
    history: [event('Signed Up', '2026-01-05T09:00:00Z')],
  })

  it('names the fact behind a branch: "plan = pro"', () => {
    expect(why({ type: 'trait', path: 'plan', op: 'eq', value: 'pro' }, ctx)).toEqual({
      result: true,
      reason: 'plan = pro',
    })
    expect(why({ type: 'trait', path: 'email', op: 'exists' }, ctx)).toEqual({
      result: false,
      reason: 'email is not set',
    })
  })

  it('gives counts for performed conditions', () => {
    const cond: Condition = { type: 'performed', event: 'Contacts Uploaded', within: '3d', max: 0 }
    expect(why(cond, ctx)).toEqual({
      result: true,
      reason: 'performed Contacts Uploaded 0 times in the last 3 days',
    })
    expect(why({ type: 'performed', event: 'Signed Up' }, ctx).reason).toBe('performed Signed Up once')
  })

  it('a true all needs every fact; a false all only its first failing one', () => {
    const cond: Condition = {
      type: 'all',
      conditions: [
        { type: 'trait', path: 'plan', op: 'eq', value: 'pro' },
        { type: 'badge', badge: 'helper', has: true },
      ],
    }
    expect(why(cond, ctx)).toEqual({ result: true, reason: 'plan = pro and has badge helper' })
    const failing: Condition = {
      type: 'all',
      conditions: [
        { type: 'trait', path: 'plan', op: 'eq', value: 'pro' },
        { type: 'trait', path: 'country', op: 'eq', value: 'DE' },
        { type: 'score', op: 'gt', value: 50 },
      ],
    }
    expect(why(failing, ctx)).toEqual({ result: false, reason: 'country = FR' })
  })

  it('a true any names its first true fact; a false any every fact', () => {
    const cond: Condition = {
      type: 'any',
      conditions: [
        { type: 'trait', path: 'country', op: 'eq', value: 'DE' },
        { type: 'score', op: 'gt', value: 10 },
        { type: 'trait', path: 'plan', op: 'eq', value: 'pro' },
      ],
    }
    expect(why(cond, ctx)).toEqual({ result: true, reason: 'score = 12.35' })
    const none: Condition = {
      type: 'any',
      conditions: [
        { type: 'trait', path: 'country', op: 'eq', value: 'DE' },
        { type: 'stage', op: 'gte', stage: 'member' },
      ],
    }
    expect(why(none, ctx)).toEqual({ result: false, reason: 'country = FR and has no stage' })
  })

  it('not keeps the facts of its child and flips the result', () => {
    const cond: Condition = {
      type: 'not',
      condition: { type: 'segment', segment: 'churn-risk', member: true },
    }
    expect(why(cond, ctx)).toEqual({ result: true, reason: 'is not in segment churn-risk' })
  })

  it('explain gives the tree: every sub-condition with its text, result and fact', () => {
    const cond: Condition = {
      type: 'all',
      conditions: [
        { type: 'trait', path: 'plan', op: 'eq', value: 'pro' },
        { type: 'not', condition: { type: 'badge', badge: 'helper', has: true } },
      ],
    }
    const e = explain(cond, ctx)
    expect(e.result).toBe(false)
    expect(e.text).toBe('plan is pro and not (has badge helper)')
    expect(e.children.map((c) => [c.text, c.result])).toEqual([
      ['plan is pro', true],
      ['not (has badge helper)', false],
    ])
    expect(e.children[1]!.children[0]).toMatchObject({
      text: 'has badge helper',
      result: true,
      seen: 'has badge helper',
    })
    expect(reason(e)).toBe('has badge helper')
  })

  it('empty groups explain themselves', () => {
    expect(why({ type: 'all', conditions: [] }, ctx)).toEqual({ result: true, reason: 'no conditions' })
    expect(why({ type: 'any', conditions: [] }, ctx)).toEqual({ result: false, reason: 'no conditions' })
  })
})
