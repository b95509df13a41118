// What a condition reads: the events, traits, segments, badges and profile facts it
// depends on. Segments use it to re-evaluate only what an event may change; journeys
// can use it to skip exit conditions an event cannot affect, and validation to check
// that named segments, stages and badges exist (with the path of each name).
import type { Condition } from './types.ts'

export interface ConditionRefs {
  /** Event names of `performed` leaves. */
  readonly events: ReadonlySet<string>
  /** Trait paths read by `trait` leaves. */
  readonly traits: ReadonlySet<string>
  readonly segments: ReadonlySet<string>
  readonly badges: ReadonlySet<string>
  readonly stages: ReadonlySet<string>
  readonly score: boolean
  readonly firstSeen: boolean
  readonly lastSeen: boolean
  /** Reads the event being processed (`event` leaves). */
  readonly currentEvent: boolean
}

type Leaf = Exclude<Condition, { readonly type: 'all' | 'any' | 'not' }>
export type ConditionPath = readonly (string | number)[]

/** Calls `visit` for every leaf of `cond`, with its path ("conditions", 1, ...) below `at`. */
export function forEachLeaf(
  cond: Condition,
  visit: (leaf: Leaf, path: ConditionPath) => void,
  at: ConditionPath = [],
): void {
  switch (cond.type) {
    case 'all':
    case 'any':
      // Unvalidated input may lack the list: such a condition reads nothing.
      if (!Array.isArray(cond.conditions)) return
      for (const [i, c] of cond.conditions.entries()) forEachLeaf(c, visit, [...at, 'conditions', i])
      return
    case 'not':
      forEachLeaf(cond.condition, visit, [...at, 'condition'])
      return
    default:
      visit(cond, at)
  }
}

export function conditionRefs(cond: Condition): ConditionRefs {
  const events = new Set<string>()
  const traits = new Set<string>()
  const segments = new Set<string>()
  const badges = new Set<string>()
  const stages = new Set<string>()
  let score = false
  let firstSeen = false
  let lastSeen = false
  let currentEvent = false
  forEachLeaf(cond, (c) => {
    switch (c.type) {
      case 'trait':
        traits.add(c.path)
        break
      case 'event':
        currentEvent = true
        break
      case 'performed':
        events.add(c.event)
        break
      case 'first_seen':
        firstSeen = true
        break
      case 'last_seen':
        lastSeen = true
        break
      case 'segment':
        segments.add(c.segment)
        break
      case 'badge':
        badges.add(c.badge)
        break
      case 'stage':
        stages.add(c.stage)
        break
      case 'score':
        score = true
        break
      default: {
        const never: never = c
        void never
      }
    }
  })
  return { events, traits, segments, badges, stages, score, firstSeen, lastSeen, currentEvent }
}

/** A name a condition uses, where it uses it (relative to the condition). */
export interface NamedRef {
  readonly kind: 'trait' | 'event' | 'segment' | 'badge' | 'stage'
  readonly name: string
  readonly path: ConditionPath
}

/** Every trait path, performed event, segment, badge and stage named in `cond`, in order. */
export function namedRefs(cond: Condition, at: ConditionPath = []): NamedRef[] {
  const out: NamedRef[] = []
  forEachLeaf(
    cond,
    (c, path) => {
      switch (c.type) {
        case 'trait':
          out.push({ kind: 'trait', name: c.path, path: [...path, 'path'] })
          break
        case 'performed':
          out.push({ kind: 'event', name: c.event, path: [...path, 'event'] })
          break
        case 'segment':
          out.push({ kind: 'segment', name: c.segment, path: [...path, 'segment'] })
          break
        case 'badge':
          out.push({ kind: 'badge', name: c.badge, path: [...path, 'badge'] })
          break
        case 'stage':
          out.push({ kind: 'stage', name: c.stage, path: [...path, 'stage'] })
          break
        default:
          break
      }
    },
    at,
  )
  return out
}

/** Names a definition may refer to; a list left out is not checked. */
export interface KnownNames {
  /** Trait paths; "company.size" is known if "company.size" or "company" is listed. */
  readonly fields?: readonly string[]
  readonly events?: readonly string[]
  readonly segments?: readonly string[]
  readonly badges?: readonly string[]
  readonly stages?: readonly string[]
}

/** Why `ref` names nothing known ("unknown event \"Sined Up\""), or null when it is fine. */
export function unknownRef(ref: NamedRef, known: KnownNames): string | null {
  switch (ref.kind) {
    case 'trait': {
      if (!known.fields) return null
      const top = ref.name.split('.')[0] ?? ref.name
      return known.fields.includes(ref.name) || known.fields.includes(top)
        ? null
        : `unknown field "${ref.name}"`
    }
    case 'event':
      return isKnown(ref.name, known.events) ? null : `unknown event "${ref.name}"`
    case 'segment':
      return isKnown(ref.name, known.segments) ? null : `unknown segment "${ref.name}"`
    case 'badge':
      return isKnown(ref.name, known.badges) ? null : `unknown badge "${ref.name}"`
    case 'stage':
      return isKnown(ref.name, known.stages) ? null : `unknown stage "${ref.name}"`
    default: {
      const never: never = ref.kind
      return never
    }
  }
}

function isKnown(name: string, list: readonly string[] | undefined): boolean {
  return list === undefined || list.includes(name)
}

/** Whether two trait paths overlap: a change to "address" touches "address.city" and back. */
export function pathsOverlap(a: string, b: string): boolean {
  return a === b || a.startsWith(`${b}.`) || b.startsWith(`${a}.`)
}
