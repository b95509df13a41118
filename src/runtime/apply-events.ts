// Applies a batch of one partition's events, in seq order, inside one transaction:
// resolve the profile, update it, run the hooks. Any error stops the batch and names
// the event that caused it; the caller rolls back and decides (retry or dead-letter).
import type { Clock } from '../domain/clock.ts'
import type { NewEvent } from '../domain/events/types.ts'
import type { IdentityInput } from '../domain/profiles/identity.ts'
import { applyEvent, counterName, groupOf } from '../domain/profiles/state.ts'
import { canonicalTimezone } from '../domain/profiles/timezone.ts'
import { mergeTraits } from '../domain/profiles/traits.ts'
import type { Logger } from '../log.ts'
import type { Tx } from '../store/db.ts'
import { type AppliedEvent, eventRows, insertEvents } from '../store/events.ts'
import type { PendingEvent, ProcessedEvent, RoundTail } from '../store/processing.ts'
import { eventFactsOf } from '../store/profile-facts.ts'
import { ProfileCache, prefetchProfiles, resolveProfile } from '../store/profiles/resolve.ts'
import { joinGroup, profileSaveRows } from '../store/profiles/write.ts'
import { closeRoundCache, openRoundCache, type RoundCache } from '../store/round-cache.ts'
import { type FollowUp, type HookContext, type ProcessorHook, settleAll } from './hooks.ts'
import { ProfileWrites } from './profile-writes.ts'

export class EventFailure extends Error {
  readonly event: PendingEvent
  readonly hook: string | null
  constructor(event: PendingEvent, hook: string | null, cause: unknown) {
    super(`${hook ? `hook ${hook}: ` : ''}${cause instanceof Error ? cause.message : String(cause)}`, {
      cause,
    })
    this.name = 'EventFailure'
    this.event = event
    this.hook = hook
  }
}

/** A hook's prefetch failed: no event is to blame; the round is run again without prefetches. */
export class PrefetchFailure extends Error {
  constructor(cause: unknown) {
    super(`prefetching the round's reads failed: ${cause instanceof Error ? cause.message : String(cause)}`, {
      cause,
    })
    this.name = 'PrefetchFailure'
  }
}

/** The round's gathered writes (hook flushes, follow-ups) failed: no event is to blame yet. */
export class FlushFailure extends Error {
  constructor(cause: unknown) {
    super(
      `writing the round's gathered effects failed: ${cause instanceof Error ? cause.message : String(cause)}`,
      {
        cause,
      },
    )
    this.name = 'FlushFailure'
  }
}

export interface ApplyDeps {
  readonly hooks: readonly ProcessorHook[]
  readonly clock: Clock
  readonly log: Logger
  /**
   * false: hooks flush and follow-ups are written after each event, so a write that fails
   * names its event (the rerun of a round whose gathered writes failed). Default true.
   */
  readonly gather?: boolean
}

/**
 * A follow-up of an event failed while being applied in the round that emitted it (its
 * hooks threw, or one of its own follow-ups did). The cause itself applied: the round is
 * run again with the cause's follow-ups left pending, each then processed in a later round
 * on its own, with its own retries and dead letter.
 */
export class FollowUpFailure extends Error {
  readonly event: PendingEvent
  constructor(cause: PendingEvent, err: unknown) {
    super(`a follow-up failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
    this.name = 'FollowUpFailure'
    this.event = cause
  }
}

/**
 * How deep follow-ups of follow-ups are applied in their round; deeper ones wait in the log
 * like any event. Journeys cannot cycle without a delay (validation) and the community
 * model stops its chains (MAX_CHAIN), so this only bounds a round.
 */
export const MAX_FOLLOW_UP_DEPTH = 8

export interface ApplyDeps {
  readonly hooks: readonly ProcessorHook[]
  readonly clock: Clock
  readonly log: Logger
  /**
   * false: hooks flush and follow-ups are written after each event, so a write that fails
   * names its event (the rerun of a round whose gathered writes failed). Default true.
   */
  readonly gather?: boolean
  /** Events (by seq, or all) whose follow-ups are left pending instead of applied in the round. */
  readonly keepFollowUpsPending?: ReadonlySet<number> | 'all'
  /** false: the hooks' prefetches are skipped (the rerun of a round whose prefetch failed). Default true. */
  readonly prefetch?: boolean
}

/**
 * The events applied, and what the round gathered for the statement that ends it
 * (finishRound): the follow-ups and the profiles' fields and counters. A round run
 * event by event (gather: false) has written them already: `tail` is null.
 */
export interface Applied {
  readonly done: ProcessedEvent[]
  readonly tail: RoundTail | null
}

export async function applyEvents(
  tx: Tx,
  events: readonly PendingEvent[],
  now: Date,
  deps: ApplyDeps,
): Promise<Applied> {
  const cache = new ProfileCache()
  const done: ProcessedEvent[] = []
  const gather = deps.gather ?? true
  // Follow-ups of the round, appended in one statement at its end.
  const followUps: RoundFollowUp[] = []
  const inputs = events.map((e) => ({ workspaceId: e.workspaceId, input: identityInput(e) }))
  // One query locates every known profile of the batch; a failure here is the batch's, not an event's.
  await prefetchProfiles(tx, inputs, cache)
  // The hooks' reads of the round's profiles, made once for all of them (see round-cache.ts).
  const profiles = cache.profileIds()
  const round = openRoundCache(tx, profiles)
  try {
    // The hooks start their reads of the round's profiles together. No event is to blame for
    // a failure there: the round is run again without prefetches.
    if ((deps.prefetch ?? true) && profiles.size > 0)
      await settleAll(deps.hooks.map(async (h) => h.prefetch?.(tx, { profiles, events, now }))).catch(
        (err: unknown) => {
          throw new PrefetchFailure(err)
        },
      )
    return await applyInRound(tx, events, now, deps, { inputs, cache, round, done, followUps, gather })
  } finally {
    closeRoundCache(tx)
  }
}

/**
 * A follow-up emitted in the round. Applied right after its cause, in the same round, it is
 * written already processed (`applied`); otherwise it is written pending, for a later round.
 */
interface RoundFollowUp {
  readonly event: NewEvent
  applied: { profileId: string; readonly at: Date } | null
}

/** Where an event's processing stands, for naming a failure. */
interface Failing {
  hook: string | null
  /** 0: the event itself; more: one of its follow-ups (applied after it, in the round). */
  depth: number
}

interface RoundState {
  readonly inputs: ReadonlyArray<{ readonly workspaceId: string; readonly input: IdentityInput }>
  readonly cache: ProfileCache
  readonly round: RoundCache
  readonly done: ProcessedEvent[]
  readonly followUps: RoundFollowUp[]
  readonly gather: boolean
}

async function applyInRound(
  tx: Tx,
  events: readonly PendingEvent[],
  now: Date,
  deps: ApplyDeps,
  { inputs, cache, round, done, followUps, gather }: RoundState,
): Promise<Applied> {
  // Profile fields and counters, written once at the end of the round.
  const profiles = new ProfileWrites()
  // A failure of these gathered writes is not the current event's: the round is rerun
  // writing after each event, so the event whose write fails is found.
  // messageIds of the round's follow-ups.
  const emittedIds = new Set<string>()
  const writeProfiles = async () => {
    try {
      await profiles.write(tx, now)
    } catch (err) {
      throw new FlushFailure(err)
    }
  }

  /**
   * Applies one event to its profile and runs the hooks, then (depth permitting) the
   * follow-ups they emitted, each right after its cause. Returns the profile it belongs to.
   * Errors are thrown as they come, `failing` saying where (the last event started, and
   * the hook that threw, if one did).
   */
  const applyOne = async (
    event: PendingEvent,
    input: IdentityInput,
    depth: number,
    failing: Failing,
  ): Promise<string> => {
    failing.depth = depth
    // A lookup that misses the batch's cache reads profiles: write the round's first.
    const resolved = await resolveProfile(tx, event.workspaceId, input, event.timestamp, now, cache, {
      beforeLookup: writeProfiles,
    })
    const { workspaceId } = event
    const { profileId } = resolved
    if (resolved.created) round.created(workspaceId, profileId)
    // Events of this batch already assigned to a profile merged away now belong to the survivor.
    if (resolved.merged.length) {
      round.merged(workspaceId, profileId, resolved.merged)
      const gone = new Set(resolved.merged)
      for (let i = 0; i < done.length; i++) {
        const d = done[i] as ProcessedEvent
        if (d.workspaceId === workspaceId && gone.has(d.profileId)) done[i] = { ...d, profileId }
      }
      for (const f of followUps)
        if (f.applied && f.event.workspaceId === workspaceId && gone.has(f.applied.profileId))
          f.applied.profileId = profileId
    }
    const next = applyEvent(resolved.state, event)
    const counter = counterName(event)
    profiles.save(workspaceId, profileId, next, counter ? { name: counter, at: event.timestamp } : null)
    cache.update(workspaceId, profileId, next)
    if (resolved.created)
      round.setRecord(workspaceId, profileId, {
        userId: resolved.userId,
        ...next,
        stage: null,
        score: null,
        badges: new Map(),
        segments: new Set(),
      })
    round.row(workspaceId, profileId, { userId: resolved.userId, ...next })
    const group = groupOf(event)
    if (group) await joinGroup(tx, workspaceId, profileId, group, event.timestamp, now)

    const emitted = followUps.length
    if (deps.hooks.length) {
      let state = next
      const profileView = () => ({
        workspaceId,
        profileId,
        userId: resolved.userId,
        traits: state.traits,
        traitsBefore: resolved.state.traits,
        timezone: state.timezone,
        firstSeenAt: state.firstSeenAt,
        lastSeenAt: state.lastSeenAt,
        created: resolved.created,
        mergedProfileIds: resolved.merged,
      })
      const counters = {
        get: async (name: string) => (await profiles.counters(tx, workspaceId, profileId, name))[0] ?? null,
        all: () => profiles.counters(tx, workspaceId, profileId),
      }
      // Trait writes go through here so the batch's profile cache stays true.
      const updateTraits = async (changes: Readonly<Record<string, unknown>>) => {
        const traits = mergeTraits(state.traits, changes)
        state = { ...state, traits, timezone: canonicalTimezone(traits.timezone) ?? state.timezone }
        profiles.save(workspaceId, profileId, state, null)
        cache.update(workspaceId, profileId, state)
        round.row(workspaceId, profileId, state)
        return traits
      }
      for (const hook of deps.hooks) {
        failing.hook = hook.name
        const ctx: HookContext = {
          tx,
          event: { ...event, profileId },
          profile: profileView(),
          counters,
          clock: deps.clock,
          now,
          log: deps.log,
          emit: async (f) => {
            const e = followUp(event, hook.name, f, now)
            // The same follow-up twice for one cause is one event (the log keeps one too).
            if (emittedIds.has(e.messageId)) return
            emittedIds.add(e.messageId)
            followUps.push({ event: e, applied: null })
          },
          updateTraits,
        }
        await hook.onEvent(ctx)
      }
      failing.hook = null
    }
    round.processed(workspaceId, profileId, { ...eventFactsOf(event), messageId: event.messageId })
    // Follow-ups next, each as an event of this profile right after its cause: no trip
    // through the pending queue, and a journey reacting to one does so in this round.
    const keep = deps.keepFollowUpsPending
    const inRound = depth < MAX_FOLLOW_UP_DEPTH && keep !== 'all' && !keep?.has(event.seq)
    if (inRound) {
      const end = followUps.length
      for (let i = emitted; i < end; i++) {
        const f = followUps[i] as RoundFollowUp
        const applied = await applyOne(asPending(f.event), identityInput(f.event), depth + 1, failing)
        f.applied = { profileId: applied, at: now }
      }
    }
    return profileId
  }

  for (const [index, event] of events.entries()) {
    const failing: Failing = { hook: null, depth: 0 }
    try {
      const input = inputs[index]?.input ?? identityInput(event)
      const profileId = await applyOne(event, input, 0, failing)
      // What follows is the event's own (its writes, in a round run event by event).
      failing.depth = 0
      failing.hook = null
      if (!gather) {
        await flush(tx, deps.hooks, followUps, (name) => (failing.hook = name))
        failing.hook = null
        await writeProfiles()
      }
      done.push({ workspaceId: event.workspaceId, seq: event.seq, profileId })
    } catch (err) {
      if (err instanceof FlushFailure && gather) throw err
      // The event itself applied; one of the follow-ups applied after it failed.
      if (failing.depth > 0) throw new FollowUpFailure(event, err)
      throw new EventFailure(event, failing.hook, err)
    }
  }
  if (!gather) return { done, tail: null }
  try {
    await flushHooks(tx, deps.hooks, () => {})
  } catch (err) {
    throw new FlushFailure(err)
  }
  const saves = profiles.take()
  const { rows, pending } = takeFollowUps(followUps)
  return {
    done,
    tail: {
      events: rows.length ? eventRows(rows) : null,
      profiles: saves.length ? profileSaveRows(saves) : null,
      notify: pending,
    },
  }
}

/**
 * Writes what hooks gathered, then the follow-ups (emptying the list): those applied in
 * the round as processed, the others pending, with a NOTIFY for the processors then.
 */
async function flush(
  tx: Tx,
  hooks: readonly ProcessorHook[],
  followUps: RoundFollowUp[],
  naming: (hook: string | null) => void,
): Promise<void> {
  await flushHooks(tx, hooks, naming)
  const { rows, pending } = takeFollowUps(followUps)
  await insertEvents(tx, rows, { notify: pending })
}

/**
 * The follow-ups gathered so far, as log rows (processed for those applied in the round),
 * emptying the list; `pending`: some are left for a later round, whose processors must wake.
 */
function takeFollowUps(followUps: RoundFollowUp[]): {
  rows: Array<NewEvent | AppliedEvent>
  pending: boolean
} {
  const rows = followUps.splice(0).map((f) => (f.applied ? { ...f.event, applied: f.applied } : f.event))
  return { rows, pending: rows.some((r) => !('applied' in r)) }
}

/** Writes what each hook gathered. */
async function flushHooks(
  tx: Tx,
  hooks: readonly ProcessorHook[],
  naming: (hook: string | null) => void,
): Promise<void> {
  for (const hook of hooks) {
    naming(hook.name)
    await hook.flush?.(tx)
  }
  naming(null)
}

/** A follow-up as the processor applies it: not in the log yet, so without a seq (0). */
function asPending(e: NewEvent): PendingEvent {
  return { ...e, seq: 0, profileId: null, processedAt: null, attempts: 0, retryAt: null }
}

function identityInput(event: NewEvent): IdentityInput {
  const previousId = event.payload.previousId
  return {
    type: event.type,
    userId: event.userId,
    anonymousId: event.anonymousId,
    previousId: typeof previousId === 'string' && previousId !== '' ? previousId : null,
  }
}

/**
 * A follow-up carries the cause's identities, so it lands in the same partition and
 * is processed after its cause, for the same profile.
 */
function followUp(cause: PendingEvent, hook: string, f: FollowUp, now: Date): NewEvent {
  return {
    workspaceId: cause.workspaceId,
    messageId: `nudge:${hook}:${f.key ?? f.event}:${cause.messageId}`,
    type: 'track',
    name: f.event,
    userId: cause.userId,
    anonymousId: cause.anonymousId,
    timestamp: now,
    receivedAt: now,
    partition: cause.partition,
    payload: {
      type: 'track',
      event: f.event,
      properties: f.properties ?? {},
      ...(cause.userId ? { userId: cause.userId } : {}),
      ...(cause.anonymousId ? { anonymousId: cause.anonymousId } : {}),
      context: { nudge: { internal: true, hook, causeMessageId: cause.messageId } },
    },
  }
}
