import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { journeyJsonSchema } from '../../../src/domain/journeys/json-schema.ts'
import { formatIssue, parseJourneyDocument } from '../../../src/domain/journeys/parse.ts'

const root = join(import.meta.dirname, '../../..')

describe('schemas/journey.schema.json', () => {
  it('is the schema generated from the zod schema (run npm run schemas after a change)', () => {
    // Compared as data: the formatter may lay the file out differently.
    expect(JSON.parse(readFileSync(join(root, 'schemas/journey.schema.json'), 'utf8'))).toEqual(
      journeyJsonSchema(),
    )
  })
})

const bad = `id: broken
name: Broken
trigger: { type: event, event: Signed Up }
entry: { type: once }
steps:
  - { id: a, type: send, channel: email, template: welcome }
  - id: wait-contacts
    type: wait
    for: { event: Contacts Uploaded }
  - { id: a, type: send, channel: pigeon, template: nope }
  - type: branch
    paths:
      - name: big
        when: { type: trait, path: plan, op: gt, value: 5 }
        steps: [ { type: exit } , { type: send, channel: email, template: welcome } ]
  - { type: delay, for: 3 days }
  - { type: teleport }
`

describe('parseJourneyDocument', () => {
  it('reports every problem at once, with file, line, path and a hint', () => {
    const result = parseJourneyDocument(bad, 'journeys/broken.yaml', {
      templates: ['welcome'],
      traitTypes: { plan: 'string' },
    })
    expect(result.ok).toBe(false)
    const lines = result.ok ? [] : result.errors.map(formatIssue)
    expect(lines).toEqual([
      'journeys/broken.yaml:7: steps[1].timeout: a wait needs a timeout, e.g. timeout: 3d',
      'journeys/broken.yaml:10: steps[2].id: step id a is used twice (also at steps[0]) (give each step its own id)',
      'journeys/broken.yaml:10: steps[2].channel: unknown channel pigeon (use one of email, sms, push, webhook, in_app)',
      'journeys/broken.yaml:10: steps[2].template: unknown template nope (create the template first, or fix its name)',
      'journeys/broken.yaml:14: steps[3].paths[0].when.value: trait plan is a string but it is compared with gt, which needs a number (quote the value: value: "5")',
      'journeys/broken.yaml:15: steps[3].paths[0].steps[1]: this step can never run: a step before it always ends the run (remove it or move it before the exit)',
      'journeys/broken.yaml:16: steps[4].for: not a duration: write a number and a unit, e.g. 30m, 2h, 3d, 1w',
      "journeys/broken.yaml:17: steps[5].type: Invalid discriminator value. Expected 'delay' | 'wait' | 'branch' | 'split' | 'send' | 'update' | 'exit'",
    ])
  })

  it('reads JSON with line numbers too, and YAML syntax errors', () => {
    const json =
      '{\n  "id": "x",\n  "name": "X",\n  "trigger": { "type": "event", "event": "A" },\n  "entry": { "type": "sometimes" },\n  "steps": [ { "type": "exit" } ]\n}'
    const r = parseJourneyDocument(json, 'x.json')
    expect(r.ok ? [] : r.errors.map((e) => [e.line, e.path])).toEqual([[5, 'entry.type']])
    const syntax = parseJourneyDocument('id: x\nname: y: z\nsteps: []\n', 'x.yaml')
    expect(syntax.ok ? null : syntax.errors.map(formatIssue)).toEqual([
      'x.yaml:2: Nested mappings are not allowed in compact mappings (check the YAML indentation and quotes)',
    ])
  })

  it('names a missing field and an unknown one', () => {
    const r = parseJourneyDocument(
      'id: x\ntrigger: { type: event, event: A }\nentry: { type: once }\nsteps: [ { type: exit } ]\ncolour: blue\n',
      'x.yaml',
    )
    expect(r.ok ? [] : r.errors.map((e) => `${e.path}: ${e.message}`)).toEqual([
      'name: name is missing',
      ': unknown field colour',
    ])
  })

  it('takes a badge or segment condition without has or member as true, as the conditions docs say', () => {
    const text = [
      'id: holders',
      'name: Holders',
      'trigger: { type: event, event: Posted }',
      'entry: { type: every_time }',
      'steps:',
      '  - id: who',
      '    type: branch',
      '    paths:',
      '      - name: both',
      '        when: { type: all, conditions: [{ type: badge, badge: helper }, { type: segment, segment: regulars }] }',
      '        steps: [{ id: thanks, type: send, channel: email, template: welcome }]',
    ].join('\n')
    const r = parseJourneyDocument(text, 'holders.yaml')
    expect(r.ok ? r.journey.steps[0] : r.errors.map(formatIssue)).toMatchObject({
      paths: [
        {
          when: {
            conditions: [
              { type: 'badge', badge: 'helper', has: true },
              { type: 'segment', segment: 'regulars', member: true },
            ],
          },
        },
      ],
    })
  })

  it('accepts every example journey', () => {
    for (const name of [
      'welcome-series',
      'beginner-photo-tip',
      'feedback-ask',
      'rules-reminder',
      'abandoned-booking',
      'contacts-not-uploaded',
      'airport-ride',
    ]) {
      const text = readFileSync(join(root, 'examples/journeys', `${name}.yaml`), 'utf8')
      const r = parseJourneyDocument(text, `${name}.yaml`)
      expect(r.ok ? r.journey.id : r.errors.map(formatIssue)).toBe(name)
    }
  })
})
