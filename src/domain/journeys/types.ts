// The journey document: what a journey file (YAML or JSON) holds once validated.
// Tagged unions with readonly fields; the zod schemas in ./schema.ts carry the same names.
// Steps nest (a wait, branch or split owns blocks of steps) and there is no goto: a run
// only moves forward, so a loop without a delay cannot be written.
import type { Condition, DurationText, FieldFilter } from '../conditions/types.ts'

export type Weekday = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun'

/** "HH:MM", 24-hour clock. */
export type TimeOfDay = string

/**
 * Ties an awaited event to the trigger event: `properties.trip_id` means "the same
 * properties.trip_id as the event that started the run". The object form names a different
 * path on each side.
 */
export type Correlation = string | { readonly trigger: string; readonly event: string }

/** An event by name, narrowed by filters on its fields (paths as in `properties.forum`). */
export interface EventMatch {
  readonly event: string
  readonly where?: readonly FieldFilter[]
  readonly correlate?: Correlation
}

/** Something that ends a run: an event that happens, or a condition that becomes true. */
export type Criterion = EventMatch | { readonly condition: Condition }

/** The conversion a journey aims at; `within` counts from entry. */
export type Goal = Criterion & { readonly within?: DurationText }

export type Trigger =
  | { readonly type: 'event'; readonly event: string; readonly where?: readonly FieldFilter[] }
  /** Fires on the internal `Segment Entered` / `Segment Exited` events. */
  | { readonly type: 'segment'; readonly segment: string; readonly on: 'entered' | 'exited' }
  /** A trait changed value (optionally from/to given values). */
  | { readonly type: 'trait_changed'; readonly trait: string; readonly from?: unknown; readonly to?: unknown }
  /** A numeric trait crossed a threshold upwards (default) or downwards. */
  | {
      readonly type: 'trait_crossed'
      readonly trait: string
      readonly threshold: number
      readonly direction?: 'up' | 'down'
    }
  /**
   * A moment relative to a date trait: `renewal_at` with offset `-7d`, optionally at a time
   * of day in the member's timezone; `repeat: yearly` makes anniversaries.
   */
  | {
      readonly type: 'date'
      readonly trait: string
      readonly offset?: DurationText
      readonly at?: TimeOfDay
      readonly repeat?: 'yearly'
    }
  /** A cron schedule, in the member's timezone unless one is given, for members of `segment`. */
  | {
      readonly type: 'schedule'
      readonly cron: string
      readonly timezone?: string
      readonly segment?: string
    }

export type TriggerType = Trigger['type']

/** At most `count` entries per rolling `per` window, whatever the key. */
export interface EntryLimit {
  readonly count: number
  readonly per: DurationText
}

export type EntryRule =
  /** Once per profile, ever. */
  | { readonly type: 'once' }
  /** Every trigger starts a run. */
  | { readonly type: 'every_time'; readonly at_most?: EntryLimit }
  /** Once per rendered key, e.g. "{{ event.properties.comment_id }}". */
  | { readonly type: 'once_per_key'; readonly key: string; readonly at_most?: EntryLimit }

/** A time window in the member's timezone (or `timezone`), e.g. 09:00-11:00 on weekdays. */
export interface TimeWindow {
  readonly from: TimeOfDay
  readonly to: TimeOfDay
  readonly days?: readonly Weekday[]
  readonly timezone?: string
}

interface StepBase {
  /** Stable id, unique in the journey; derived from the position when omitted. */
  readonly id?: string
}

/**
 * Waits `for` a duration, or `until` a date trait ± offset; then, with a `window`, moves
 * forward to the next moment inside it. A window alone waits for the next window.
 */
export interface DelayStep extends StepBase {
  readonly type: 'delay'
  readonly for?: DurationText
  readonly until?: { readonly trait: string; readonly offset?: DurationText }
  readonly window?: TimeWindow
}

/** Waits for an event until `timeout`; each outcome has its own block, then the run goes on. */
export interface WaitStep extends StepBase {
  readonly type: 'wait'
  readonly for: EventMatch
  readonly timeout: DurationText
  readonly on_event?: readonly Step[]
  readonly on_timeout?: readonly Step[]
}

export interface BranchPath {
  readonly name: string
  readonly when: Condition
  readonly steps: readonly Step[]
}

/** The first path whose condition holds is taken, else `else`; then the run goes on. */
export interface BranchStep extends StepBase {
  readonly type: 'branch'
  readonly paths: readonly BranchPath[]
  readonly else?: readonly Step[]
}

export interface SplitVariant {
  readonly name: string
  readonly weight: number
  readonly steps: readonly Step[]
}

/** Weighted random, sticky per profile (a hash of journey, step and profile). */
export interface SplitStep extends StepBase {
  readonly type: 'split'
  readonly variants: readonly SplitVariant[]
}

export interface SendStep extends StepBase {
  readonly type: 'send'
  readonly channel: string
  readonly template: string
  /** Email: a person's address, e.g. "Camille <camille@example.org>". */
  readonly from?: string
  readonly reply_to?: string
  /** Email: send the text part only, like a mail written by hand. */
  readonly plain_text?: boolean
  /** Transactional messages pass marketing subscriptions and frequency caps. */
  readonly transactional?: boolean
}

export interface UpdateStep extends StepBase {
  readonly type: 'update'
  readonly set?: Readonly<Record<string, unknown>>
  readonly unset?: readonly string[]
  readonly points?: number
  readonly tags?: { readonly add?: readonly string[]; readonly remove?: readonly string[] }
  readonly badge?: string
}

export interface ExitStep extends StepBase {
  readonly type: 'exit'
  readonly reason?: string
}

export type Step = DelayStep | WaitStep | BranchStep | SplitStep | SendStep | UpdateStep | ExitStep
export type StepType = Step['type']

export interface Journey {
  /** Slug, stable across versions. */
  readonly id: string
  readonly name: string
  readonly description?: string
  /** Used when a member has no timezone; UTC otherwise. */
  readonly timezone?: string
  readonly trigger: Trigger
  readonly entry: EntryRule
  readonly goal?: Goal
  /** Any of these ends a run at once, even in the middle of a delay or a wait. */
  readonly exit?: readonly Criterion[]
  readonly steps: readonly Step[]
}

export function isEventCriterion(c: Criterion): c is EventMatch {
  return 'event' in c
}
