// Journey tests evaluate conditions with the real evaluator; this file only gives them
// an in-memory history they can add to and a profile builder.
import { memoryHistory } from '../../src/domain/conditions/history.ts'
import type {
  EventFacts,
  EventHistory,
  HistoryQuery,
  ProfileFacts,
} from '../../src/domain/conditions/types.ts'
import { profile as baseProfile } from './conditions.ts'

export { evaluate } from '../../src/domain/conditions/evaluate.ts'

/** Past events of one profile, answering `performed` questions. */
export class MemoryHistory implements EventHistory {
  readonly events: EventFacts[] = []
  add(e: EventFacts): void {
    this.events.push(e)
  }
  count(q: HistoryQuery): number {
    return memoryHistory(this.events).count(q)
  }
}

export function profile(id: string, over: Partial<ProfileFacts> = {}): ProfileFacts {
  return baseProfile({ profileId: id, userId: id, ...over })
}
