// Which segments a change to a profile may affect, so the processor re-evaluates those
// and not every segment on every event. Conservative: a segment listed may turn out
// unchanged; a segment not listed cannot have changed (time-based changes are timers'
// business, see nextRecheckAt).
import { type ConditionRefs, conditionRefs, pathsOverlap } from '../conditions/references.ts'
import { segmentOrder } from './order.ts'
import type { Segment } from './types.ts'

/** What processing one event changed on a profile. */
export interface ProfileChange {
  /** The name of the event performed (track event, page or screen name), if any. */
  readonly event?: string | null
  /** Trait paths set or unset. */
  readonly traits?: readonly string[]
  /** last_seen moved (every event moves it). */
  readonly lastSeen?: boolean
  /** first_seen moved (a new profile, or a merge). */
  readonly firstSeen?: boolean
  readonly stage?: boolean
  /** Badges awarded or removed. */
  readonly badges?: readonly string[]
  readonly score?: boolean
  /** Segments whose membership just changed. */
  readonly segments?: readonly string[]
}

function touches(refs: ConditionRefs, change: ProfileChange): boolean {
  if (change.event != null && refs.events.has(change.event)) return true
  if (change.traits?.some((p) => [...refs.traits].some((r) => pathsOverlap(p, r)))) return true
  if (change.lastSeen && refs.lastSeen) return true
  if (change.firstSeen && refs.firstSeen) return true
  if (change.stage && refs.stages.size > 0) return true
  if (change.badges?.some((b) => refs.badges.has(b))) return true
  if (change.score && refs.score) return true
  return change.segments?.some((s) => refs.segments.has(s)) ?? false
}

/**
 * The segments to re-evaluate after `change`, dependencies first, including the segments
 * built on an affected one (their input may change once it is re-evaluated).
 */
export function segmentsAffectedBy(change: ProfileChange, segments: readonly Segment[]): Segment[] {
  const sorted = segmentOrder(segments)
  const ordered = sorted.ok ? sorted.order : segments
  const affected = new Set<string>()
  for (const s of ordered) {
    const refs = conditionRefs(s.condition)
    if (touches(refs, change) || [...refs.segments].some((d) => affected.has(d))) affected.add(s.id)
  }
  return ordered.filter((s) => affected.has(s.id))
}
