// Re-evaluating a profile's segments: which it enters and leaves, and when time alone
// may next change each answer (the runtime keeps one timer per profile and segment).
import { evaluate } from '../conditions/evaluate.ts'
import { nextRecheckAt, type RecheckFacts } from '../conditions/recheck.ts'
import { forEachLeaf } from '../conditions/references.ts'
import type { Condition, EventHistory, EventTimes, ProfileFacts } from '../conditions/types.ts'
import { type MembershipChange, membershipChange } from './membership.ts'
import type { Segment } from './types.ts'

export interface SegmentsInput {
  readonly now: Date
  readonly profile: ProfileFacts
  /** Past events for `performed` leaves, with their times for recheck. */
  readonly history: EventHistory & EventTimes
  readonly stages: readonly string[]
  readonly recheck?: RecheckFacts
}

export interface SegmentOutcome {
  readonly segment: Segment
  readonly change: MembershipChange | null
  /** When to look again without a new event; null: only an event can change it. */
  readonly recheckAt: Date | null
}

/** True when some leaf's answer can move with time alone (windows, relative dates, decay). */
export function mayChangeWithTime(cond: Condition): boolean {
  let found = false
  forEachLeaf(cond, (leaf) => {
    if (leaf.type === 'performed') found ||= leaf.within !== undefined
    else if (leaf.type === 'score') found = true
    else if (leaf.type === 'trait' || leaf.type === 'first_seen' || leaf.type === 'last_seen')
      found ||= leaf.op === 'within_last' || leaf.op === 'within_next'
  })
  return found
}

export interface SegmentsResult {
  readonly outcomes: readonly SegmentOutcome[]
  /** The profile's segments afterwards. */
  readonly segments: ReadonlySet<string>
}

/**
 * Evaluates `segments` in the order given (dependencies first, see segmentOrder), each
 * seeing the memberships decided before it, so a segment of segments moves in the same
 * pass as the segments it is built on.
 */
export function evaluateSegments(segments: readonly Segment[], input: SegmentsInput): SegmentsResult {
  const member = new Set(input.profile.segments)
  const outcomes: SegmentOutcome[] = []
  for (const segment of segments) {
    const ctx = {
      now: input.now,
      profile: { ...input.profile, segments: member },
      event: null,
      history: input.history,
      stages: input.stages,
    }
    const was = member.has(segment.id)
    const is = evaluate(segment.condition, ctx)
    if (is) member.add(segment.id)
    else member.delete(segment.id)
    outcomes.push({
      segment,
      change: membershipChange(was, is),
      recheckAt: mayChangeWithTime(segment.condition)
        ? nextRecheckAt(segment.condition, ctx, { times: input.history, ...input.recheck })
        : null,
    })
  }
  return { outcomes, segments: member }
}
