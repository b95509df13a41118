// Date and schedule triggers at run time, as decisions: which timer a profile's date trigger
// needs after its traits changed, the event a time-started run sees as its trigger, and the
// ids of the timers that carry these triggers.
import type { JourneyEvent } from './event.ts'
import { nextDateOccurrence } from './occurrence.ts'
import type { Journey, Trigger } from './types.ts'
import { isTimezone } from './zoned-time.ts'

export type DateTrigger = Extract<Trigger, { type: 'date' }>
export type ScheduleTrigger = Extract<Trigger, { type: 'schedule' }>

/** Timer kinds of time triggers (the scheduler's handlers are registered by these names). */
export const TIME_TRIGGER_TIMERS = {
  /** After a publish: sets up the journey's date timers (in pages) or schedule timers. */
  setup: 'journey_trigger_setup',
  /** One per (journey, profile): the next occurrence of a date trigger. */
  date: 'journey_date',
  /** One per (journey, timezone): the next cron occurrence in that timezone. */
  schedule: 'journey_schedule',
  /** One per (journey, profile, occurrence): a member entering at a cron occurrence. */
  entry: 'journey_schedule_entry',
} as const

/** The member's timezone, else the journey's, else UTC (as delays use). */
export function memberTimezone(journey: Journey, profileTimezone: string | null): string {
  if (profileTimezone && isTimezone(profileTimezone)) return profileTimezone
  return journey.timezone ?? 'UTC'
}

/** One date timer per (journey, profile): moving it is rescheduling the same id. */
export function dateTimerId(journeyId: string): string {
  return `date:${journeyId}`
}

/** One schedule timer per (journey, timezone): it enters that timezone's members. */
export function scheduleTimerId(journeyId: string, timezone: string): string {
  return `schedule:${journeyId}:${timezone}`
}

/** A member's entry at one occurrence: the occurrence in the id makes the fan-out idempotent. */
export function scheduleEntryTimerId(journeyId: string, occurrence: Date): string {
  return `schedule-entry:${journeyId}:${occurrence.toISOString()}`
}

/** The timer that sets up a journey's time trigger after it is published (a backfill). */
export function triggerSetupTimerId(journeyId: string, cursor = ''): string {
  return cursor ? `trigger-setup:${journeyId}:${cursor}` : `trigger-setup:${journeyId}`
}

export type DateTimerPlan =
  /** Nothing to do: the trait did not change. */
  | { readonly kind: 'keep' }
  /** Create or move the profile's timer to `at`. */
  | { readonly kind: 'schedule'; readonly at: Date }
  /** The trait was cleared, or its date is past for good: no timer. */
  | { readonly kind: 'cancel' }

/** What a change of traits means for a profile's date timer. */
export function planDateTimer(
  trigger: DateTrigger,
  before: Readonly<Record<string, unknown>>,
  after: Readonly<Record<string, unknown>>,
  now: Date,
  timezone: string,
): DateTimerPlan {
  // The timezone trait moves "09:00" too.
  const same = (k: string) => JSON.stringify(before[k]) === JSON.stringify(after[k])
  if (same(trigger.trait) && same('timezone')) return { kind: 'keep' }
  const at = nextDateOccurrence(trigger, after, now, timezone)
  return at ? { kind: 'schedule', at } : { kind: 'cancel' }
}

/**
 * The run's trigger event for a time trigger. Its id names the occurrence, so the entry
 * rule `every_time` enters once per occurrence, and `{{ event.properties.occurrence }}`
 * keys `once_per_key`.
 */
export function timeTriggerEvent(
  journey: Journey,
  trigger: DateTrigger | ScheduleTrigger,
  occurrence: Date,
  timezone: string,
  traits: Readonly<Record<string, unknown>>,
): JourneyEvent {
  const at = occurrence.toISOString()
  const properties =
    trigger.type === 'date'
      ? {
          journey: journey.id,
          trait: trigger.trait,
          date: traits[trigger.trait] ?? null,
          occurrence: at,
          timezone,
        }
      : { journey: journey.id, cron: trigger.cron, occurrence: at, timezone }
  return {
    id: `${trigger.type}:${journey.id}:${at}`,
    type: 'track',
    name: trigger.type === 'date' ? 'Date Reached' : 'Schedule Reached',
    timestamp: occurrence,
    properties,
    traits: {},
    context: {},
  }
}
