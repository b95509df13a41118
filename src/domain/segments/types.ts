// A segment: a named condition whose membership the processor keeps up to date in real
// time. Entering and leaving it are events ("Segment Entered" / "Segment Exited").
import type { Condition } from '../conditions/types.ts'

export interface Segment {
  /** Stable id, used by `segment` conditions and triggers: "power-users". */
  readonly id: string
  /** What people read: "Power users". */
  readonly name: string
  readonly description?: string
  readonly condition: Condition
}

/** The events emitted when a profile's membership changes. */
export const SEGMENT_ENTERED = 'Segment Entered'
export const SEGMENT_EXITED = 'Segment Exited'
