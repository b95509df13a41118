// Membership transitions: the only two that are events.
import { SEGMENT_ENTERED, SEGMENT_EXITED } from './types.ts'

export type MembershipChange = 'entered' | 'exited'

export function membershipChange(wasMember: boolean, isMember: boolean): MembershipChange | null {
  if (wasMember === isMember) return null
  return isMember ? 'entered' : 'exited'
}

/** The event name to emit for a change. */
export function membershipEvent(change: MembershipChange): typeof SEGMENT_ENTERED | typeof SEGMENT_EXITED {
  return change === 'entered' ? SEGMENT_ENTERED : SEGMENT_EXITED
}
