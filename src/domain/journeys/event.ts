// The event a journey sees: the condition facts of an event plus its id (the messageId),
// which keys the run of an every_time entry and appears in the trace.
import type { EventFacts } from '../conditions/types.ts'

export interface JourneyEvent extends EventFacts {
  readonly id: string
}

/** The value at a dot path of an event ("properties.trip_id", "name"). */
export function valueAt(root: unknown, path: string): unknown {
  let v: unknown = root
  for (const key of path.split('.')) {
    if (v === null || typeof v !== 'object') return undefined
    v = (v as Record<string, unknown>)[key]
  }
  return v
}
