// Builders for condition contexts in tests: a profile, an optional current event and a
// history of past events, all at the time of a FakeClock.
import type { Clock } from '../../../src/domain/clock.ts'
import { memoryHistory } from '../../../src/domain/conditions/history.ts'
import type { ConditionContext, EventFacts, ProfileFacts } from '../../../src/domain/conditions/types.ts'
import { event, profile } from '../../helpers/conditions.ts'

export { event, profile }

export const STAGES = ['visitor', 'prospect', 'member', 'active', 'ambassador', 'evangelist'] as const

export function context(
  clock: Clock,
  over: {
    profile?: Partial<ProfileFacts>
    event?: EventFacts | null
    history?: readonly EventFacts[]
  } = {},
): ConditionContext {
  return {
    now: clock.now(),
    profile: profile(over.profile),
    event: over.event ?? null,
    history: memoryHistory(over.history ?? []),
    stages: STAGES,
  }
}

/** `ms` after the clock's time, as a Date. */
export function at(clock: Clock, ms: number): Date {
  return new Date(clock.now().getTime() + ms)
}
