// The extension point of the processor: what journeys, segments, scores and stages
// plug into. A hook sees each event once it has been applied to its profile, inside
// the same transaction, so whatever it writes commits (or rolls back) with the event.
import type { Clock } from '../domain/clock.ts'
import type { StoredEvent } from '../domain/events/types.ts'
import type { Traits } from '../domain/profiles/traits.ts'
import type { Logger } from '../log.ts'
import type { Tx } from '../store/db.ts'
import type { EventCounter } from '../store/profiles/write.ts'

export interface HookProfile {
  readonly workspaceId: string
  readonly profileId: string
  readonly userId: string | null
  /** Traits after this event was applied. */
  readonly traits: Traits
  /** Traits before it (compare the two for "trait changed" triggers). */
  readonly traitsBefore: Traits
  readonly timezone: string | null
  readonly firstSeenAt: Date
  readonly lastSeenAt: Date
  /** True when this event created the profile. */
  readonly created: boolean
  /** Profiles absorbed into this one by this event (their state now lives here). */
  readonly mergedProfileIds: readonly string[]
}

/** A follow-up event a hook appends to the log ("Segment Entered", "Stage Entered"...). */
export interface FollowUp {
  /** The track event name. */
  readonly event: string
  readonly properties?: Readonly<Record<string, unknown>>
  /**
   * Tells apart several follow-ups with the same name from one hook for one event
   * (default: the name). Together with the cause's messageId and the hook's name it
   * makes the follow-up's messageId, so a retried batch never appends it twice.
   */
  readonly key?: string
}

export interface HookContext {
  /** The batch transaction: use it for every read and write. */
  readonly tx: Tx
  /** The event being processed (profileId is the resolved profile's). */
  readonly event: StoredEvent
  readonly profile: HookProfile
  readonly counters: {
    /** This profile's counter for one event name (this event already counted), or null. */
    get(event: string): Promise<EventCounter | null>
    all(): Promise<EventCounter[]>
  }
  readonly clock: Clock
  /** The processing time of this batch (one value for all hooks, from the clock). */
  readonly now: Date
  readonly log: Logger
  /**
   * Appends a track event for this profile to the log, in this transaction. The processor
   * applies it right after this event (every hook sees it), in the same round.
   */
  emit(followUp: FollowUp): Promise<void>
  /**
   * Sets traits of this profile (merged like identify traits; null clears). Hooks must
   * change traits through this, never by writing `profiles` directly: the processor
   * keeps the batch's profiles in memory and would overwrite such a write. Hooks that
   * run later for this event see the new traits. Returns the traits after the change.
   */
  updateTraits(changes: Readonly<Record<string, unknown>>): Promise<Traits>
}

export interface ProcessorHook {
  /** Stable and unique: part of follow-up messageIds and of error reports. */
  readonly name: string
  /** Throwing fails the event: it is retried with backoff, then dead-lettered. */
  onEvent(ctx: HookContext): Promise<void>
  /**
   * Writes what onEvent gathered for the round (multi-row statements), before it commits.
   * Called once per round; if that fails, the round is run again with flush after each
   * event, so the event that cannot be written fails alone. A hook that gathers must read
   * its own gathered writes back where a later event of the round would look for them.
   */
  flush?(tx: Tx): Promise<void>
  /**
   * Starts, before the round's first event, the reads the hook will make for the round's
   * profiles (through the round cache), so that they go to the database together instead of
   * one after the other as events need them. A hint: what it does not read is read later.
   */
  prefetch?(tx: Tx, round: RoundStart): Promise<void>
}

/**
 * Awaits every promise, then throws the first failure: no work of a failed group is left
 * running (Promise.all would give up at the first failure while the others go on).
 */
export async function settleAll(work: ReadonlyArray<Promise<unknown>>): Promise<void> {
  const results = await Promise.allSettled(work)
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
  if (failed) throw failed.reason
}

/** What a round is about to process: its known profiles by workspace, and its events. */
export interface RoundStart {
  readonly profiles: ReadonlyMap<string, readonly string[]>
  readonly events: readonly StoredEvent[]
  readonly now: Date
}
