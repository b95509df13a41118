// Checks beyond the schema: duplicate step ids, unreachable steps, unknown channels and
// templates, traits compared with values of the wrong type, malformed entry keys. They read
// the raw document defensively, so they run even when the schema also failed and the user
// sees every problem at once.
import { keyPaths } from './key-template.ts'

export type TraitType = 'string' | 'number' | 'boolean' | 'date' | 'list'

export interface CheckOptions {
  /** Channel names that exist (default: email, sms, push, webhook, in_app). */
  readonly channels?: readonly string[]
  /** Template names that exist; unchecked when absent. */
  readonly templates?: readonly string[]
  /** The channel of each template, to catch an email template sent by push; unchecked when absent. */
  readonly templateChannels?: Readonly<Record<string, string>>
  /** Trait types, to catch `plan > 5` on a text trait; unchecked when absent. */
  readonly traitTypes?: Readonly<Record<string, TraitType>>
}

export interface CheckIssue {
  readonly path: readonly (string | number)[]
  readonly message: string
  readonly hint: string | null
}

export const DEFAULT_CHANNELS = ['email', 'sms', 'push', 'webhook', 'in_app'] as const

type Path = readonly (string | number)[]
type Rec = Record<string, unknown>

const rec = (v: unknown): Rec | null =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Rec) : null
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : [])

export function pathText(path: Path): string {
  return path.reduce<string>(
    (out, p) => (typeof p === 'number' ? `${out}[${p}]` : out ? `${out}.${p}` : p),
    '',
  )
}

/** The blocks a raw step owns, with their path suffixes. */
function blocksOf(step: Rec): [Path, unknown[]][] {
  switch (step['type']) {
    case 'wait':
      return [
        [['on_event'], arr(step['on_event'])],
        [['on_timeout'], arr(step['on_timeout'])],
      ]
    case 'branch':
      return [
        ...arr(step['paths']).map((p, i): [Path, unknown[]] => [
          ['paths', i, 'steps'],
          arr(rec(p)?.['steps']),
        ]),
        [['else'], arr(step['else'])],
      ]
    case 'split':
      return arr(step['variants']).map((v, i): [Path, unknown[]] => [
        ['variants', i, 'steps'],
        arr(rec(v)?.['steps']),
      ])
    default:
      return []
  }
}

/** Whether running this block always ends the run (so nothing after its owner runs). */
function alwaysEnds(block: unknown[]): boolean {
  return block.some((s) => {
    const step = rec(s)
    if (!step) return false
    if (step['type'] === 'exit') return true
    const blocks = blocksOf(step)
    // A branch without else, or a wait with an empty outcome, can fall through.
    if (step['type'] === 'branch' && step['else'] === undefined) return false
    return blocks.length > 0 && blocks.every(([, b]) => alwaysEnds(b))
  })
}

export function checkJourney(doc: unknown, options: CheckOptions = {}): CheckIssue[] {
  const issues: CheckIssue[] = []
  const add = (path: Path, message: string, hint: string | null = null) =>
    issues.push({ path, message, hint })
  const root = rec(doc)
  if (!root) return issues
  const channels = options.channels ?? DEFAULT_CHANNELS
  const seen = new Map<string, string>()

  const visitBlock = (block: unknown[], at: Path) => {
    let ended = false
    block.forEach((s, i) => {
      const path = [...at, i]
      const step = rec(s)
      if (!step) return
      if (ended) {
        add(
          path,
          'this step can never run: a step before it always ends the run',
          'remove it or move it before the exit',
        )
        ended = false // report the first unreachable step of a block only
      }
      const id = typeof step['id'] === 'string' ? step['id'] : pathText(path)
      const first = seen.get(id)
      if (first !== undefined)
        add([...path, 'id'], `step id ${id} is used twice (also at ${first})`, 'give each step its own id')
      else seen.set(id, pathText(path))
      checkStep(step, path)
      for (const [suffix, inner] of blocksOf(step)) visitBlock(inner, [...path, ...suffix])
      if (step['type'] === 'exit' || (blocksOf(step).length > 0 && alwaysEnds([step])))
        ended = i < block.length - 1
    })
  }

  const checkStep = (step: Rec, path: Path) => {
    if (step['type'] === 'send') {
      const channel = step['channel']
      if (typeof channel === 'string' && !channels.includes(channel)) {
        add([...path, 'channel'], `unknown channel ${channel}`, `use one of ${channels.join(', ')}`)
      }
      const template = step['template']
      if (typeof template === 'string' && options.templates && !options.templates.includes(template)) {
        add(
          [...path, 'template'],
          `unknown template ${template}`,
          'create the template first, or fix its name',
        )
      }
      const made = typeof template === 'string' ? options.templateChannels?.[template] : undefined
      if (made !== undefined && typeof channel === 'string' && made !== channel) {
        add(
          [...path, 'template'],
          `template ${template} is written for ${made}, but this step sends by ${channel}`,
          `use channel: ${made}, or a template written for ${channel}`,
        )
      }
      if ((step['from'] !== undefined || step['plain_text'] !== undefined) && channel !== 'email') {
        add(path, '`from` and `plain_text` apply to email only', 'remove them or send by email')
      }
    }
    if (step['type'] === 'branch') {
      for (const [i, p] of arr(step['paths']).entries())
        checkCondition(rec(p)?.['when'], [...path, 'paths', i, 'when'])
    }
    if (step['type'] === 'delay') {
      const trait = rec(step['until'])?.['trait']
      if (typeof trait === 'string')
        expectTrait(trait, ['date'], [...path, 'until', 'trait'], 'a delay until a date trait')
    }
  }

  const expectTrait = (trait: string, types: TraitType[], path: Path, what: string) => {
    const actual = options.traitTypes?.[trait]
    if (actual && !types.includes(actual))
      add(path, `${what} needs a ${types.join(' or ')} trait, but ${trait} is a ${actual}`, null)
  }

  const checkCondition = (c: unknown, path: Path) => {
    const cond = rec(c)
    if (!cond) return
    switch (cond['type']) {
      case 'all':
      case 'any':
        for (const [i, x] of arr(cond['conditions']).entries()) checkCondition(x, [...path, 'conditions', i])
        return
      case 'not':
        checkCondition(cond['condition'], [...path, 'condition'])
        return
      case 'trait': {
        const trait = cond['path']
        const type = typeof trait === 'string' ? options.traitTypes?.[trait] : undefined
        if (!type) return
        const problem = mismatch(type, String(cond['op']), cond['value'])
        if (problem)
          add(
            [...path, 'value'],
            `trait ${String(trait)} is a ${type} but ${problem}`,
            hintFor(type, cond['value']),
          )
        return
      }
      default:
        return
    }
  }

  const trigger = rec(root['trigger'])
  if (trigger?.['type'] === 'trait_crossed' && typeof trigger['trait'] === 'string') {
    expectTrait(trigger['trait'], ['number'], ['trigger', 'trait'], 'a threshold')
  }
  if (trigger?.['type'] === 'date' && typeof trigger['trait'] === 'string') {
    expectTrait(trigger['trait'], ['date'], ['trigger', 'trait'], 'a date trigger')
  }
  const entry = rec(root['entry'])
  if (entry?.['type'] === 'once_per_key' && typeof entry['key'] === 'string') {
    for (const p of keyPaths(entry['key'])) {
      if (!p.startsWith('event.') && !p.startsWith('profile.')) {
        add(
          ['entry', 'key'],
          `the key reads ${p}, which is neither event.… nor profile.…`,
          'e.g. {{ event.properties.comment_id }}',
        )
      }
    }
  }
  const goal = rec(root['goal'])
  if (goal) checkCondition(goal['condition'], ['goal', 'condition'])
  for (const [i, x] of arr(root['exit']).entries())
    checkCondition(rec(x)?.['condition'], ['exit', i, 'condition'])
  visitBlock(arr(root['steps']), ['steps'])
  return issues
}

const NUMERIC_OPS = new Set(['gt', 'gte', 'lt', 'lte'])
const DATE_OPS = new Set(['before', 'after', 'within_last', 'within_next'])

/** Why comparing a trait of `type` with `value` through `op` cannot work, or null. */
function mismatch(type: TraitType, op: string, value: unknown): string | null {
  const values = op === 'in' || op === 'not_in' ? (Array.isArray(value) ? value : [value]) : [value]
  if (op === 'exists' || op === 'not_exists') return null
  if (DATE_OPS.has(op) && type !== 'date') return `it is compared with ${op}, which needs a date`
  if ((op === 'contains' || op === 'not_contains') && type !== 'string' && type !== 'list') {
    return `it is compared with ${op}, which needs text or a list`
  }
  if (NUMERIC_OPS.has(op) && type !== 'number' && type !== 'date')
    return `it is compared with ${op}, which needs a number`
  const expected = type === 'date' ? 'string' : type === 'list' ? null : type
  if (expected === null || DATE_OPS.has(op) || op === 'contains' || op === 'not_contains') return null
  const wrong = values.find((v) => typeof v !== expected)
  return wrong === undefined ? null : `it is compared with ${JSON.stringify(wrong)} (${typeof wrong})`
}

function hintFor(type: TraitType, value: unknown): string | null {
  if (type === 'string' && typeof value !== 'string') return `quote the value: value: "${String(value)}"`
  if (type === 'number' && typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value))) {
    return `remove the quotes: value: ${value}`
  }
  if (type === 'boolean') return 'use value: true or value: false'
  return null
}
