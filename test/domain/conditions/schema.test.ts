// What a journey author sees when a condition is wrong: the path and a message saying
// what to write instead. And what a right one becomes once parsed.
import { describe, expect, it } from 'vitest'
import { parse as parseYaml } from 'yaml'
import { ConditionSchema, FieldFilterSchema, parseCondition } from '../../../src/domain/conditions/schema.ts'

const issues = (input: unknown) => {
  const r = parseCondition(input, 'steps[2].when')
  if (r.ok) throw new Error(`expected issues, parsed ${JSON.stringify(r.value)}`)
  return r.issues
}

describe('valid conditions', () => {
  it('parses the YAML examples of the docs', () => {
    const yaml = `
type: all
conditions:
  - { type: performed, event: Signed Up, within: 30d }
  - { type: performed, event: Contacts Uploaded, within: 3d, max: 0 }
  - { type: trait, path: plan, op: in, value: [pro, team] }
  - { type: trait, path: email, op: contains, value: "@acme.com", ignoreCase: true }
  - { type: trait, path: renewal_at, op: within_next, value: 7d }
  - { type: event, path: properties.forum, op: eq, value: photo-beginners }
  - { type: performed, event: Post Created, where: [{ path: properties.forum, op: eq, value: photo-beginners }], min: 1, max: 1 }
  - { type: performed, event: Ticket Bought, between: { from: 2026-01-01, to: 2026-02-01 }, min: 2 }
  - { type: last_seen, op: within_last, value: 14d }
  - { type: first_seen, op: before, value: 2025-06-01 }
  - { type: segment, segment: power-users }
  - { type: stage, op: gte, stage: member }
  - { type: badge, badge: first-post, has: false }
  - { type: score, op: gte, value: 50 }
  - type: not
    condition: { type: trait, path: unsubscribed, op: eq, value: true }
  - type: any
    conditions: []
`
    const r = parseCondition(parseYaml(yaml))
    expect(r.ok).toBe(true)
  })

  it('fills member and has with true, and keeps a duration in milliseconds as text', () => {
    expect(ConditionSchema.parse({ type: 'segment', segment: 'vip' })).toEqual({
      type: 'segment',
      segment: 'vip',
      member: true,
    })
    expect(ConditionSchema.parse({ type: 'badge', badge: 'helper' })).toEqual({
      type: 'badge',
      badge: 'helper',
      has: true,
    })
    expect(ConditionSchema.parse({ type: 'performed', event: 'X', within: 90_000, max: 0 })).toEqual({
      type: 'performed',
      event: 'X',
      within: '90000ms',
      max: 0,
    })
  })

  it('accepts numbers and dates for gt, numeric text too', () => {
    for (const value of [5, '5', '2026-01-01', '2026-01-01T09:00:00+02:00']) {
      expect(parseCondition({ type: 'trait', path: 'x', op: 'gt', value }).ok).toBe(true)
    }
  })
})

describe('invalid conditions', () => {
  it.each([
    [
      { type: 'trait', path: 'plan', op: 'equals', value: 'pro' },
      'steps[2].when.op',
      'op must be one of eq, ne, gt, gte, lt, lte, contains, not_contains, exists, not_exists, in, not_in, before, after, within_last, within_next',
    ],
    [
      { type: 'performed', event: 'X', within: '3x' },
      'steps[2].when.within',
      "'3x' is not a duration such as 30m, 2h, 3d, 1w or 1d12h",
    ],
    [
      { type: 'performed', event: 'X', within: true },
      'steps[2].when.within',
      'must be a duration such as 30m, 2h, 3d',
    ],
    [
      { type: 'trait', path: 'age', op: 'gt', value: 'old' },
      'steps[2].when.value',
      "gt needs a number or an ISO date such as 2026-01-31 or 2026-01-31T09:00:00Z, not 'old'",
    ],
    [
      { type: 'trait', path: 'age', op: 'gt', value: true },
      'steps[2].when.value',
      'gt needs a number or an ISO date such as 2026-01-31 or 2026-01-31T09:00:00Z, not true',
    ],
    [
      { type: 'trait', path: 'plan', op: 'in', value: 'pro' },
      'steps[2].when.value',
      'in needs a list of values, such as [pro, team]',
    ],
    [
      { type: 'trait', path: 'plan', op: 'not_in', value: [] },
      'steps[2].when.value',
      'not_in needs a list of values, such as [pro, team]',
    ],
    [
      { type: 'trait', path: 'plan', op: 'in', value: [{ a: 1 }] },
      'steps[2].when.value',
      'in needs a list of texts, numbers or true/false',
    ],
    [
      { type: 'trait', path: 'renewal_at', op: 'within_last', value: '3x' },
      'steps[2].when.value',
      "within_last: '3x' is not a duration such as 30m, 2h, 3d",
    ],
    [
      { type: 'trait', path: 'renewal_at', op: 'within_next' },
      'steps[2].when.value',
      'within_next needs a duration such as 30m, 2h, 3d',
    ],
    [
      { type: 'trait', path: 'renewal_at', op: 'before', value: 'tomorrow' },
      'steps[2].when.value',
      "before needs an ISO date such as 2026-01-31 or 2026-01-31T09:00:00Z, not 'tomorrow'",
    ],
    [
      { type: 'trait', path: 'email', op: 'exists', value: true },
      'steps[2].when.value',
      'exists takes no value',
    ],
    [
      { type: 'trait', path: 'plan', op: 'eq' },
      'steps[2].when.value',
      'eq needs a value: a text, a number or true/false',
    ],
    [
      { type: 'trait', path: 'plan', op: 'eq', value: ['pro'] },
      'steps[2].when.value',
      'eq needs a value: a text, a number or true/false',
    ],
    [{ type: 'trait', path: '', op: 'exists' }, 'steps[2].when.path', 'path must not be empty'],
    [
      { type: 'trait', path: 'address..city', op: 'exists' },
      'steps[2].when.path',
      "path 'address..city' has an empty part",
    ],
    [
      { type: 'event', path: 'forum', op: 'eq', value: 'x' },
      'steps[2].when.path',
      'path must be name, type, timestamp or start with properties., traits. or context. (did you mean properties.forum?)',
    ],
    [
      { type: 'trait', path: 'plan', op: 'eq', value: 'pro', ignoreCase: 'yes' },
      'steps[2].when.ignoreCase',
      'ignoreCase must be true or false',
    ],
    [
      { type: 'trait', path: 'plan', op: 'eq', value: 'pro', values: ['x'] },
      'steps[2].when',
      "unknown field 'values': a trait condition has type, path, op, value, ignoreCase",
    ],
    [
      { type: 'segmnt', segment: 'vip' },
      'steps[2].when.type',
      'type must be one of all, any, not, trait, event, performed, first_seen, last_seen, segment, stage, badge, score',
    ],
    [
      { segment: 'vip' },
      'steps[2].when.type',
      'type must be one of all, any, not, trait, event, performed, first_seen, last_seen, segment, stage, badge, score',
    ],
    ['plan = pro', 'steps[2].when', 'a condition must be an object with a type'],
    [{ type: 'performed' }, 'steps[2].when.event', 'event must be a text'],
    [{ type: 'performed', event: '  ' }, 'steps[2].when.event', 'event must not be empty'],
    [{ type: 'performed', event: 'X', min: -1 }, 'steps[2].when.min', 'min must be 0 or more'],
    [{ type: 'performed', event: 'X', max: 1.5 }, 'steps[2].when.max', 'max must be a whole number'],
    [{ type: 'performed', event: 'X', min: 3, max: 1 }, 'steps[2].when.max', 'max (1) is less than min (3)'],
    [
      { type: 'performed', event: 'X', within: '3d', between: { from: '2026-01-01', to: '2026-02-01' } },
      'steps[2].when.between',
      'use within or between, not both',
    ],
    [
      { type: 'performed', event: 'X', between: { from: '2026-02-01', to: '2026-01-01' } },
      'steps[2].when.between.to',
      'between: from must not be after to',
    ],
    [
      { type: 'performed', event: 'X', between: { from: 'last week', to: '2026-01-01' } },
      'steps[2].when.between.from',
      "from: 'last week' is not an ISO date such as 2026-01-31 or 2026-01-31T09:00:00Z",
    ],
    [
      { type: 'performed', event: 'X', where: [{ path: 'properties.at', op: 'within_last', value: '1d' }] },
      'steps[2].when.where[0].op',
      'within_last is not allowed in where: use within on the performed condition',
    ],
    [
      { type: 'performed', event: 'X', where: { path: 'properties.a', op: 'exists' } },
      'steps[2].when.where',
      'where must be a list of filters',
    ],
    [
      { type: 'first_seen', op: 'gt', value: '2026-01-01' },
      'steps[2].when.op',
      'op must be one of before, after, within_last, within_next',
    ],
    [
      { type: 'last_seen', op: 'within_last', value: 'a while' },
      'steps[2].when.value',
      "within_last: 'a while' is not a duration such as 30m, 2h, 3d",
    ],
    [
      { type: 'segment', segment: 'vip', member: 'yes' },
      'steps[2].when.member',
      'member must be true or false',
    ],
    [{ type: 'stage', op: 'gt', stage: 'member' }, 'steps[2].when.op', 'op must be one of eq, ne, gte, lte'],
    [{ type: 'badge', badge: 'x', has: 1 }, 'steps[2].when.has', 'has must be true or false'],
    [{ type: 'score', op: 'gt', value: '50' }, 'steps[2].when.value', 'value must be a number'],
    [{ type: 'score', op: 'eq', value: 50 }, 'steps[2].when.op', 'op must be one of gt, gte, lt, lte'],
    [
      { type: 'all', conditions: { type: 'trait' } },
      'steps[2].when.conditions',
      'conditions must be a list of conditions',
    ],
    [
      { type: 'not', conditions: [] },
      'steps[2].when',
      "unknown field 'conditions': a not condition has type, condition",
    ],
  ])('%j → %s: %s', (input, path, message) => {
    expect(issues(input)).toContainEqual({ path, message })
  })

  it('reports every problem of a nested condition with its full path', () => {
    const found = issues({
      type: 'all',
      conditions: [
        { type: 'trait', path: 'plan', op: 'eq', value: 'pro' },
        {
          type: 'any',
          conditions: [
            { type: 'performed', event: 'X', within: '2 days' },
            { type: 'score', op: 'gt' },
          ],
        },
      ],
    })
    expect(found).toEqual([
      {
        path: 'steps[2].when.conditions[1].conditions[0].within',
        message: "'2 days' is not a duration such as 30m, 2h, 3d, 1w or 1d12h",
      },
      { path: 'steps[2].when.conditions[1].conditions[1].value', message: 'value must be a number' },
    ])
  })

  it('FieldFilterSchema alone checks where filters', () => {
    expect(FieldFilterSchema.safeParse({ path: 'properties.forum', op: 'eq', value: 'x' }).success).toBe(true)
    expect(FieldFilterSchema.safeParse({ path: 'forum', op: 'eq', value: 'x' }).success).toBe(false)
  })
})
