// Journeys that start each other (or themselves) again and again without a delay: what a
// run emits before its first delay or wait (Journey Entered, a sent message, a trait set)
// can match the trigger of a journey that lets anyone re-enter every time. Such a loop would
// spin forever at processing speed, so it is refused before it is stored.
import type { CheckIssue } from './checks.ts'
import { pathText } from './checks.ts'
import type { Journey, Step, Trigger } from './types.ts'

type Path = readonly (string | number)[]

/** Something a run emits at once on entry: an event, or a trait set to a value. */
type Signal =
  | {
      readonly kind: 'event'
      readonly name: string
      readonly properties: Record<string, unknown>
      readonly at: Path
    }
  | { readonly kind: 'trait'; readonly trait: string; readonly value: unknown; readonly at: Path }

export interface CycleIssue {
  readonly journeyId: string
  readonly issue: CheckIssue
}

/** Signals of a block up to its first delay or wait; `through` is false when nothing after it runs at once. */
function immediate(
  journeyId: string,
  block: readonly Step[],
  at: Path,
): { signals: Signal[]; through: boolean } {
  const signals: Signal[] = []
  for (const [i, step] of block.entries()) {
    const path = [...at, i]
    switch (step.type) {
      case 'delay':
      case 'wait':
        return { signals, through: false }
      case 'exit':
        signals.push({
          kind: 'event',
          name: 'Journey Exited',
          properties: { journey_id: journeyId },
          at: path,
        })
        return { signals, through: false }
      case 'send':
        signals.push({
          kind: 'event',
          name: 'Message Sent',
          properties: { journey_id: journeyId, channel: step.channel, template: step.template },
          at: path,
        })
        break
      case 'update':
        for (const [trait, value] of Object.entries(step.set ?? {}))
          signals.push({ kind: 'trait', trait, value, at: [...path, 'set', trait] })
        break
      case 'branch':
      case 'split': {
        const blocks: [Path, readonly Step[]][] =
          step.type === 'branch'
            ? [
                ...step.paths.map((p, j): [Path, readonly Step[]] => [
                  [...path, 'paths', j, 'steps'],
                  p.steps,
                ]),
                [[...path, 'else'], step.else ?? []],
              ]
            : step.variants.map((v, j): [Path, readonly Step[]] => [
                [...path, 'variants', j, 'steps'],
                v.steps,
              ])
        let through = false
        for (const [inner, steps] of blocks) {
          const out = immediate(journeyId, steps, inner)
          signals.push(...out.signals)
          through ||= out.through
        }
        if (!through) return { signals, through: false }
        break
      }
      default: {
        const never: never = step
        throw new Error(`unknown step ${String(never)}`)
      }
    }
  }
  return { signals, through: true }
}

/** Could this signal start a run of a journey with this trigger? Unknown fields may match. */
function matches(trigger: Trigger, s: Signal): boolean {
  switch (trigger.type) {
    case 'event': {
      if (s.kind !== 'event' || s.name !== trigger.event) return false
      return (trigger.where ?? []).every((f) => {
        const key = f.path.startsWith('properties.') ? f.path.slice('properties.'.length) : null
        if (key === null || !(key in s.properties)) return true
        const v = s.properties[key]
        switch (f.op) {
          case 'eq':
            return v === f.value
          case 'ne':
            return v !== f.value
          case 'in':
            return !Array.isArray(f.value) || f.value.includes(v)
          case 'not_in':
            return !Array.isArray(f.value) || !f.value.includes(v)
          case 'not_exists':
            return false
          default:
            return true
        }
      })
    }
    case 'trait_changed':
      return (
        s.kind === 'trait' &&
        s.trait === trigger.trait &&
        (trigger.to === undefined || trigger.to === s.value) &&
        (trigger.from === undefined || trigger.from !== s.value)
      )
    case 'trait_crossed':
      return (
        s.kind === 'trait' &&
        s.trait === trigger.trait &&
        typeof s.value === 'number' &&
        (trigger.direction === 'down' ? s.value < trigger.threshold : s.value >= trigger.threshold)
      )
    case 'segment':
    case 'date':
    case 'schedule':
      return false
    default: {
      const never: never = trigger
      throw new Error(`unknown trigger ${String(never)}`)
    }
  }
}

interface Edge {
  readonly from: string
  readonly to: string
  readonly signal: Signal
}

/** Strongly connected groups of journeys (Tarjan), each a list of ids. */
function components(ids: readonly string[], edges: readonly Edge[]): string[][] {
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const onStack = new Set<string>()
  const out: string[][] = []
  let next = 0
  const visit = (v: string) => {
    index.set(v, next)
    low.set(v, next++)
    stack.push(v)
    onStack.add(v)
    for (const e of edges.filter((x) => x.from === v)) {
      if (!index.has(e.to)) {
        visit(e.to)
        low.set(v, Math.min(low.get(v)!, low.get(e.to)!))
      } else if (onStack.has(e.to)) low.set(v, Math.min(low.get(v)!, index.get(e.to)!))
    }
    if (low.get(v) === index.get(v)) {
      const group: string[] = []
      for (;;) {
        const w = stack.pop()!
        onStack.delete(w)
        group.push(w)
        if (w === v) break
      }
      out.push(group.reverse())
    }
  }
  for (const id of ids) if (!index.has(id)) visit(id)
  return out
}

/**
 * Loops of journeys that re-enter without a delay, forever. Only journeys that accept
 * every entry (`every_time` without `at_most`) can loop; a loop made only of traits set to
 * the same values stops by itself (setting a trait to its value changes nothing), so it
 * counts only when an event is emitted or a trait flips between values.
 */
export function checkCycles(journeys: readonly Journey[]): CycleIssue[] {
  const open = journeys.filter((j) => j.entry.type === 'every_time' && j.entry.at_most === undefined)
  const signals = new Map(
    open.map((j) => [
      j.id,
      [
        { kind: 'event', name: 'Journey Entered', properties: { journey_id: j.id }, at: ['entry'] } as Signal,
        ...immediate(j.id, j.steps, ['steps']).signals,
      ],
    ]),
  )
  const edges: Edge[] = []
  for (const from of open)
    for (const signal of signals.get(from.id) ?? [])
      for (const to of open) if (matches(to.trigger, signal)) edges.push({ from: from.id, to: to.id, signal })

  const issues: CycleIssue[] = []
  for (const group of components(
    open.map((j) => j.id),
    edges,
  )) {
    const members = new Set(group)
    const inside = edges.filter((e) => members.has(e.from) && members.has(e.to))
    if (inside.length === 0) continue
    const values = new Map<string, Set<string>>()
    for (const e of inside)
      if (e.signal.kind === 'trait') {
        const seen = values.get(e.signal.trait) ?? new Set<string>()
        seen.add(JSON.stringify(e.signal.value))
        values.set(e.signal.trait, seen)
      }
    const endless =
      inside.some((e) => e.signal.kind === 'event') || [...values.values()].some((v) => v.size > 1)
    if (!endless) continue
    for (const id of group) {
      const edge = inside.find((e) => e.from === id)!
      const what =
        edge.signal.kind === 'event'
          ? `emits ${edge.signal.name}`
          : `sets ${edge.signal.trait} to ${JSON.stringify(edge.signal.value)}`
      const where = edge.signal.at[0] === 'entry' ? 'entering it' : pathText(edge.signal.at)
      const target = edge.to === id ? 'its own trigger' : `the trigger of journey ${edge.to}`
      const loop =
        group.length === 1
          ? 'this journey starts itself'
          : `journeys ${[...group, group[0]].join(' → ')} start each other`
      issues.push({
        journeyId: id,
        issue: {
          path: ['trigger'],
          message: `${loop} again and again without a delay: ${where} ${what}, which matches ${target}`,
          hint: 'add a delay before that step, limit entries (entry: once, or at_most), or narrow the trigger with where',
        },
      })
    }
  }
  return issues
}
