// Conditions: one boolean language over a profile, the current event and time.
// It serves segments, trigger filters, branches, goals, exits, badges and stages.
// Definitions are tagged unions with readonly fields; schemas live in ./schema.ts.

/** A duration written as in journey files: "30m", "2h", "3d", "1w" (or milliseconds). */
export type DurationText = string

export type CompareOp =
  | 'eq'
  | 'ne'
  | 'gt'
  | 'gte'
  | 'lt'
  | 'lte'
  | 'contains'
  | 'not_contains'
  | 'exists'
  | 'not_exists'
  | 'in'
  | 'not_in'
  /** dates: value is an ISO date */
  | 'before'
  | 'after'
  /** dates: value is a duration; true if the date lies in [now - value, now] */
  | 'within_last'
  /** dates: value is a duration; true if the date lies in [now, now + value] */
  | 'within_next'

/** A comparison of one field (dot path) with a value. */
export interface FieldFilter {
  readonly path: string
  readonly op: CompareOp
  readonly value?: unknown
  /** Compare texts without regard to case (eq, ne, contains, not_contains, in, not_in). */
  readonly ignoreCase?: boolean
}

export type Condition =
  | { readonly type: 'all'; readonly conditions: readonly Condition[] }
  | { readonly type: 'any'; readonly conditions: readonly Condition[] }
  | { readonly type: 'not'; readonly condition: Condition }
  /** A profile trait, e.g. { path: 'plan', op: 'eq', value: 'pro' } */
  | ({ readonly type: 'trait' } & FieldFilter)
  /** A field of the event being processed, e.g. { path: 'properties.forum', op: 'eq', value: 'photo-beginners' } */
  | ({ readonly type: 'event' } & FieldFilter)
  /**
   * How many times the profile performed `event` (matching `where`), within the last
   * `within` or between two dates, compared with min/max (inclusive). "Has not performed
   * X within 3d" is { event: X, within: '3d', max: 0 }.
   */
  | {
      readonly type: 'performed'
      readonly event: string
      readonly where?: readonly FieldFilter[]
      readonly within?: DurationText
      readonly between?: { readonly from: string; readonly to: string }
      readonly min?: number
      readonly max?: number
    }
  /** When the profile was first/last seen: op is before/after/within_last/within_next. */
  | ({ readonly type: 'first_seen' | 'last_seen' } & Omit<FieldFilter, 'path'>)
  /** Membership of a named segment. */
  | { readonly type: 'segment'; readonly segment: string; readonly member: boolean }
  /** The profile's funnel stage (community model). */
  | { readonly type: 'stage'; readonly op: 'eq' | 'ne' | 'gte' | 'lte'; readonly stage: string }
  /** Whether the profile holds a badge. */
  | { readonly type: 'badge'; readonly badge: string; readonly has: boolean }
  /** The profile's engagement score (decayed at evaluation time). */
  | { readonly type: 'score'; readonly op: 'gt' | 'gte' | 'lt' | 'lte'; readonly value: number }

export type ConditionType = Condition['type']

/** What a condition is evaluated against. The runtime builds it; the evaluator is pure. */
export interface ProfileFacts {
  readonly profileId: string
  readonly userId: string | null
  readonly traits: Readonly<Record<string, unknown>>
  readonly firstSeenAt: Date | null
  readonly lastSeenAt: Date | null
  readonly timezone: string | null
  readonly segments: ReadonlySet<string>
  readonly badges: ReadonlySet<string>
  readonly stage: string | null
  /** Engagement score already decayed to `now`. */
  readonly score: number
}

/** The event being processed, as conditions see it (`event.properties.x`, `event.name`...). */
export interface EventFacts {
  readonly type: string
  readonly name: string | null
  readonly timestamp: Date
  readonly properties: Readonly<Record<string, unknown>>
  readonly traits: Readonly<Record<string, unknown>>
  readonly context: Readonly<Record<string, unknown>>
}

/**
 * One question about a profile's past events ("performed X matching F since T"): events
 * whose name is `event` (exactly), matching every filter of `where` (paths as in event
 * conditions: "properties.forum"), with from <= timestamp <= to (both ends included; null
 * means unbounded).
 */
export interface HistoryQuery {
  readonly event: string
  readonly where: readonly FieldFilter[]
  readonly from: Date | null
  readonly to: Date | null
}

/** Answers history queries; the runtime prefetches them, tests use an in-memory list. */
export interface EventHistory {
  count(q: HistoryQuery): number
}

/**
 * The timestamps of a profile's past events matching a query, newest first, at most
 * `limit` of them. `nextRecheckAt` needs them to know when a `within` window slides past
 * an event; `recheckQueries` says which queries and limits to prefetch.
 */
export interface EventTimes {
  times(q: HistoryQuery, limit: number): readonly Date[]
}

export interface ConditionContext {
  readonly now: Date
  readonly profile: ProfileFacts
  readonly event: EventFacts | null
  readonly history: EventHistory
  /** Stage order, for stage gte/lte comparisons. */
  readonly stages: readonly string[]
}
