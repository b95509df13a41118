import { describe, expect, it } from 'vitest'
import { DEFAULT_SCORE_CONFIG } from '../../../src/domain/community/score-config.ts'
import { validateStageConfig } from '../../../src/domain/community/stage-config.ts'
import { DEFAULT_STAGE_CONFIG } from '../../../src/domain/community/stage-defaults.ts'

const always = { type: 'all', conditions: [] }
const issuesOf = (input: unknown, opts = {}) => {
  const r = validateStageConfig(input, opts)
  if (r.ok) throw new Error('expected the configuration to be rejected')
  return r.issues
}

describe('stage configuration', () => {
  it('accepts the default funnel, whose criteria only name known events and fields', () => {
    const r = validateStageConfig(DEFAULT_STAGE_CONFIG, {
      known: {
        fields: ['email', 'community_role'],
        events: [...Object.keys(DEFAULT_SCORE_CONFIG.points)],
      },
    })
    expect(r.ok && r.value.ids).toEqual([
      'visitor',
      'prospect',
      'member',
      'active_member',
      'ambassador',
      'evangelist',
    ])
  })

  it('rejects duplicate ids and names, pointing at the second occurrence', () => {
    expect(
      issuesOf({
        stages: [
          { id: 'member', name: 'Member', criteria: always },
          { id: 'member', name: 'Active', criteria: always },
          { id: 'active', name: ' member ', criteria: always },
        ],
      }),
    ).toEqual([
      { path: 'stages[1].id', message: 'duplicate stage id "member" (also stages[0])' },
      { path: 'stages[2].name', message: 'duplicate stage name "member" (also stages[0])' },
    ])
  })

  it('rejects criteria that depend on the stage itself or a later one (a cycle)', () => {
    const issues = issuesOf({
      stages: [
        { id: 'visitor', name: 'Visitor', criteria: always },
        {
          id: 'member',
          name: 'Member',
          criteria: { type: 'any', conditions: [{ type: 'stage', op: 'gte', stage: 'ambassador' }] },
        },
        { id: 'ambassador', name: 'Ambassador', criteria: { type: 'stage', op: 'eq', stage: 'ambassador' } },
      ],
    })
    expect(issues.map((i) => i.path)).toEqual([
      'stages[1].criteria.conditions[0].stage',
      'stages[2].criteria.stage',
    ])
    expect(issues[0]!.message).toContain('depend on stage "ambassador", which is not below it')
  })

  it('rejects references to unknown stages, fields, events and badges when the lists are given', () => {
    const issues = issuesOf(
      {
        stages: [
          { id: 'visitor', name: 'Visitor', criteria: always },
          {
            id: 'member',
            name: 'Member',
            criteria: {
              type: 'all',
              conditions: [
                { type: 'trait', path: 'plann', op: 'eq', value: 'pro' },
                { type: 'trait', path: 'company.size', op: 'gt', value: 10 },
                { type: 'performed', event: 'Sined Up', min: 1 },
                { type: 'badge', badge: 'first_post', has: true },
              ],
            },
            demotion: { when: { type: 'stage', op: 'eq', stage: 'ghost' }, grace: '1d' },
          },
        ],
      },
      { known: { fields: ['plan', 'company'], events: ['Signed Up'], badges: [] } },
    )
    expect(issues).toEqual([
      { path: 'stages[1].criteria.conditions[0].path', message: 'unknown field "plann"' },
      { path: 'stages[1].criteria.conditions[2].event', message: 'unknown event "Sined Up"' },
      { path: 'stages[1].criteria.conditions[3].badge', message: 'unknown badge "first_post"' },
      { path: 'stages[1].demotion.when.stage', message: 'unknown stage "ghost"' },
    ])
  })

  it('rejects unknown keys, bad durations and a demotion below the first stage, before anything else', () => {
    const issues = issuesOf({
      stages: [
        { id: 'visitor', name: 'Visitor', criteria: always, stuck_afte: '3d' },
        { id: 'member', name: 'Member', criteria: { type: 'trait', pth: 'x', op: 'eq' }, stuck_after: '0d' },
        { id: 'Active Member', name: 'Active', criteria: always, demotion: { when: always, grace: 'soon' } },
      ],
    })
    expect(issues.map((i) => i.path)).toEqual([
      'stages[0].stuck_afte',
      'stages[1].criteria.path',
      'stages[1].criteria.pth',
      'stages[1].stuck_after',
      'stages[2].id',
      'stages[2].demotion.grace',
    ])
    expect(issues.find((i) => i.path === 'stages[1].stuck_after')?.message).toBe(
      'stuck_after must be longer than zero',
    )
    expect(issues[0]).toEqual({ path: 'stages[0].stuck_afte', message: 'unknown field "stuck_afte"' })
    expect(
      issuesOf({
        stages: [{ id: 'a', name: 'A', criteria: always, demotion: { when: always, grace: '1d' } }],
      }),
    ).toEqual([{ path: 'stages[0].demotion', message: 'the first stage has no stage below it to demote to' }])
  })

  it('reads durations as conditions do; a grace may be zero, a stuck threshold may not', () => {
    const r = validateStageConfig({
      stages: [
        { id: 'visitor', name: 'Visitor', criteria: always, stuck_after: '1d12h' },
        { id: 'member', name: 'Member', criteria: always, demotion: { when: always, grace: 0 } },
      ],
    })
    expect(r.ok && [r.value.stuckAfterMs, r.value.graceMs]).toEqual([
      [36 * 3_600_000, null],
      [null, 0],
    ])
    const issues = issuesOf({
      stages: [
        { id: 'visitor', name: 'Visitor', criteria: always, stuck_after: '1.5d' },
        { id: 'member', name: 'Member', criteria: always, demotion: { when: always, grace: '3mo' } },
      ],
    })
    expect(issues.map((i) => i.path)).toEqual(['stages[0].stuck_after', 'stages[1].demotion.grace'])
    expect(issues[1]!.message).toContain('months and years vary in length')
  })

  it('rejects an empty funnel', () => {
    expect(issuesOf({ stages: [] })).toEqual([
      { path: 'stages', message: 'the funnel needs at least one stage' },
    ])
  })
})
