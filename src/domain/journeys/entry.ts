// Entry rules: may this trigger event start a run, and under which key?
// once: one run per profile, ever. every_time: one run per trigger event.
// once_per_key: one run per rendered key. at_most: at most N entries in any rolling window.
// The runtime also keeps (journey, profile, key) unique, so two workers racing cannot both enter.
import type { ProfileFacts } from '../conditions/types.ts'
import { durationMs } from './duration.ts'
import type { JourneyEvent } from './event.ts'
import { renderKey } from './key-template.ts'
import type { TraceEntry } from './trace.ts'
import type { Journey } from './types.ts'

/** The profile's earlier runs of this journey (any version): their keys and entry times. */
export interface PastEntry {
  readonly key: string
  readonly enteredAt: Date
}

/**
 * Which earlier entries decideEntry needs for this journey, so that the runtime reads no
 * more of a member's history than that (it grows with every entry): none, the first, those
 * entered since `ms` before now, or all.
 */
export type EntryHistory =
  | { readonly kind: 'none' }
  | { readonly kind: 'first' }
  | { readonly kind: 'since'; readonly ms: number }
  | { readonly kind: 'all' }

export function entryHistory(journey: Pick<Journey, 'entry' | 'trigger'>): EntryHistory {
  const entry = journey.entry
  switch (entry.type) {
    case 'once':
      return { kind: 'first' }
    case 'once_per_key':
      return { kind: 'all' }
    case 'every_time':
      // Keyed by the event: an event's id never comes again, a time trigger's occurrence may.
      if (journey.trigger.type === 'date' || journey.trigger.type === 'schedule') return { kind: 'all' }
      return entry.at_most ? { kind: 'since', ms: durationMs(entry.at_most.per) } : { kind: 'none' }
    default: {
      const never: never = entry
      return never
    }
  }
}

export type EntryDecision =
  | { readonly enter: true; readonly key: string }
  | {
      readonly enter: false
      readonly reason: 'already_entered' | 'already_entered_for_key' | 'rate_limited' | 'missing_key'
      /** The trace entry to record (no run exists for it). */
      readonly trace: TraceEntry
    }

export function decideEntry(
  journey: Journey,
  event: JourneyEvent,
  past: readonly PastEntry[],
  now: Date,
  profile: ProfileFacts | null = null,
): EntryDecision {
  const entry = journey.entry
  const skip = (reason: Extract<EntryDecision, { enter: false }>['reason'], message: string, data = {}) =>
    ({
      enter: false,
      reason,
      trace: { at: now, journeyId: journey.id, runId: null, stepId: null, kind: 'skipped', message, data },
    }) as const
  let key: string
  switch (entry.type) {
    case 'once': {
      const first = past[0]
      if (first) {
        return skip(
          'already_entered',
          `skipped: already entered on ${first.enteredAt.toISOString()} (once per profile)`,
          {
            eventId: event.id,
          },
        )
      }
      return { enter: true, key: 'once' }
    }
    case 'every_time':
      key = `event:${event.id}`
      break
    case 'once_per_key': {
      const rendered = renderKey(entry.key, event, profile)
      if (!rendered.ok) {
        return skip(
          'missing_key',
          `skipped: the entry key ${entry.key} needs ${rendered.missing}, absent from ${event.name}`,
          {
            eventId: event.id,
            missing: rendered.missing,
          },
        )
      }
      key = rendered.key
      if (past.some((p) => p.key === key)) {
        return skip('already_entered_for_key', `skipped: already entered for key ${key}`, {
          key,
          eventId: event.id,
        })
      }
      break
    }
    default: {
      const never: never = entry
      return never
    }
  }
  if (entry.at_most) {
    const { count, per } = entry.at_most
    const since = now.getTime() - durationMs(per)
    const recent = past.filter((p) => p.enteredAt.getTime() > since)
    if (recent.length >= count) {
      const last = recent.reduce((a, b) => (a.enteredAt > b.enteredAt ? a : b))
      return skip(
        'rate_limited',
        `skipped: at most ${count} per ${per}, last entered on ${last.enteredAt.toISOString()}`,
        { key, eventId: event.id, count: recent.length },
      )
    }
  }
  return { enter: true, key }
}
