// Journeys at run time. As a processor hook, each event first moves the profile's runs
// in flight (waits, goals, exits), then starts new runs of the live journeys it triggers.
// As a timer handler, a due timer moves its run. Both apply the engine's decisions in the
// transaction that carries the event or the timer, so nothing happens twice. Writes are
// set-based: a processing round's are gathered and written at its end (./round.ts), a
// chunk of timers is moved in one go (onTimers). Date and schedule triggers start runs
// from timers too (./time-triggers.ts).
import { createHash } from 'node:crypto'
import type { Clock } from '../../domain/clock.ts'
import { DEFAULT_STAGE_CONFIG } from '../../domain/community/stage-defaults.ts'
import { evaluate } from '../../domain/conditions/evaluate.ts'
import { memoryHistory } from '../../domain/conditions/history.ts'
import type { EventFacts, EventHistory, ProfileFacts } from '../../domain/conditions/types.ts'
import type { StoredEvent } from '../../domain/events/types.ts'
import { type AdvanceInput, advance, type EngineDeps } from '../../domain/journeys/engine.ts'
import { decideEntry } from '../../domain/journeys/entry.ts'
import type { JourneyEvent } from '../../domain/journeys/event.ts'
import { matchesTrigger } from '../../domain/journeys/trigger.ts'
import type { Journey } from '../../domain/journeys/types.ts'
import type { Logger } from '../../log.ts'
import type { Tx } from '../../store/db.ts'
import { emitProfileEvent, emitProfileEvents, type ProfileEvent } from '../../store/events.ts'
import {
  eventFactsOf,
  loadEventFacts,
  loadEventFactsOfProfiles,
  loadProfileFacts,
  loadProfilesFacts,
  updateProfileTraits,
} from '../../store/profile-facts.ts'
import { insertTraces, loadRunsForUpdate, type StoredRun } from '../../store/runs.ts'
import { settingsOf } from '../community/settings.ts'
import { type HookContext, type ProcessorHook, type RoundStart, settleAll } from '../hooks.ts'
import type { BatchTimerHandler, TimerHandler } from '../scheduler.ts'
import type { JourneyCatalog, LiveJourney } from './catalog.ts'
import {
  applyAdvance,
  type EffectIO,
  JOURNEY_TIMER,
  type JourneyTimerPayload,
  newAdvanceWrites,
  recordAdvance,
  writeAdvances,
} from './effects.ts'
import { makeRounds } from './round.ts'
import { type EnterAt, makeTimeTriggers } from './time-triggers.ts'

/**
 * The default funnel's stage order: what the offline simulator assumes. At run time stage
 * conditions use the workspace's funnel and the score its half-life (community settings).
 */
export const STAGES = DEFAULT_STAGE_CONFIG.stages.map((s) => s.id)
/** How long a paused journey's due timer waits before it looks again. */
const PAUSED_RECHECK_MS = 5 * 60_000

export interface JourneyRuntimeOptions {
  readonly catalog: JourneyCatalog
  readonly clock: Clock
  readonly log: Logger
}

export interface JourneyRuntime {
  readonly hook: ProcessorHook
  readonly timers: Readonly<Record<string, TimerHandler>>
  /** Set-based handlers of the same kinds, for whole chunks of timers. */
  readonly batchTimers: Readonly<Record<string, BatchTimerHandler>>
}

/** Deterministic: the same (profile, journey, key) always gets the same run id. */
export function runIdOf(workspaceId: string, profileId: string, journeyId: string, key: string): string {
  return `r_${createHash('sha256').update(`${workspaceId}\u0000${profileId}\u0000${journeyId}\u0000${key}`).digest('hex').slice(0, 20)}`
}

/** The engine's view of a logged event; the simulator converts events the same way. */
export function journeyEventOf(
  e: Pick<StoredEvent, 'type' | 'name' | 'timestamp' | 'payload' | 'messageId'>,
): JourneyEvent {
  return { ...eventFactsOf(e), id: e.messageId }
}

/** Event names that `performed` conditions anywhere in a journey ask about. */
function performedEvents(value: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const v of value) performedEvents(v, out)
  else if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>
    if (o['type'] === 'performed' && typeof o['event'] === 'string') out.add(o['event'])
    for (const v of Object.values(o)) performedEvents(v, out)
  }
  return out
}

const performedByJourney = new WeakMap<Journey, ReadonlySet<string>>()
/** performedEvents of one journey definition, walked once (definitions are immutable). */
function performedOf(journey: Journey): ReadonlySet<string> {
  let names = performedByJourney.get(journey)
  if (!names) {
    names = performedEvents(journey)
    performedByJourney.set(journey, names)
  }
  return names
}

/** The profile's past events that the journeys' conditions may count, plus the current one. */
async function historyFor(
  tx: Tx,
  workspaceId: string,
  profileId: string,
  journeys: readonly Journey[],
  current: (EventFacts & { messageId: string }) | null,
): Promise<EventHistory> {
  const names = new Set<string>()
  for (const j of journeys) for (const n of performedOf(j)) names.add(n)
  if (names.size === 0) return memoryHistory([])
  const past = await loadEventFacts(tx, workspaceId, profileId, [...names])
  // The event being processed is not yet marked with its profile in the log.
  if (current && names.has(current.name ?? '') && !past.some((e) => e.messageId === current.messageId)) {
    past.push(current)
  }
  return memoryHistory(past)
}

/**
 * Effects of a run moved by a timer reach the profile directly (no processor around).
 * Emitted events go to `emitted` when given (written later, all at once), else at once.
 */
function directIO(
  tx: Tx,
  workspaceId: string,
  profileId: string,
  now: Date,
  initial: Readonly<Record<string, unknown>>,
  emitted?: ProfileEvent[],
): EffectIO {
  let traits = initial
  return {
    emit: async (name, properties, key) => {
      const e = {
        workspaceId,
        profileId,
        messageId: `nudge:journeys:${key}`,
        event: name,
        properties,
        at: now,
      }
      if (emitted) emitted.push(e)
      else await emitProfileEvent(tx, e)
    },
    async updateTraits(changes) {
      await updateProfileTraits(tx, workspaceId, profileId, changes, now)
      traits = { ...traits, ...changes }
    },
    traits: () => traits,
  }
}

export function makeJourneyRuntime(opts: JourneyRuntimeOptions): JourneyRuntime {
  const { catalog, log } = opts
  const rounds = makeRounds()

  const deps = (profile: ProfileFacts, history: EventHistory, stages: readonly string[]): EngineDeps => ({
    evaluate,
    profile,
    history,
    stages,
  })

  async function onEvent(ctx: HookContext): Promise<void> {
    const { tx, event, now } = ctx
    const ws = event.workspaceId
    const profileId = ctx.profile.profileId
    const live = await catalog.live(tx, ws)
    await time.onEvent(ctx, live)
    const runs = await rounds.openRuns(tx, ws, profileId)
    if (live.length === 0 && runs.length === 0) return

    const community = await settingsOf(tx, ws)
    const facts = await loadProfileFacts(tx, ws, profileId, now, community.score.halfLifeMs)
    if (!facts) return
    const profile: ProfileFacts = { ...facts, traits: ctx.profile.traits }
    let traits = ctx.profile.traits
    const io: EffectIO = {
      emit: (name, properties, key) => ctx.emit({ event: name, properties, key }),
      async updateTraits(changes) {
        traits = await ctx.updateTraits(changes)
      },
      traits: () => traits,
    }
    const jEvent = journeyEventOf(event)
    const versions = new Map<string, Journey>()
    for (const r of runs) {
      const j = await catalog.version(tx, ws, r.journeyId, r.version)
      if (j) versions.set(`${r.journeyId}/${r.version}`, j)
    }
    const history = await historyFor(
      tx,
      ws,
      profileId,
      [...versions.values(), ...live.map((l) => l.journey)],
      {
        ...jEvent,
        messageId: event.messageId,
      },
    )

    // 1. Runs in flight see the event first (a booking ends the wait it answers).
    for (const stored of runs) {
      const journey = versions.get(`${stored.journeyId}/${stored.version}`)
      if (!journey) continue
      const status = await catalog.status(tx, ws, stored.journeyId)
      if (status === 'paused') continue
      const result = advance(
        journey,
        stored.run,
        { kind: 'event', event: jEvent },
        now,
        deps(profile, history, community.stages.ids),
      )
      if (result.effects.length === 0 && result.trace.length === 0 && result.run.status === stored.run.status)
        continue
      await rounds.apply(tx, ws, journey, result, now, io)
    }

    // 2. New entries.
    const ctxFacts = { now, profile, event: jEvent, history, stages: community.stages.ids }
    for (const { journey, version } of live) {
      const triggered = matchesTrigger(
        journey.trigger,
        { event: jEvent, previousTraits: ctx.profile.traitsBefore, traits: ctx.profile.traits },
        evaluate,
        ctxFacts,
      )
      if (!triggered) continue
      await enter(tx, ws, { journey, version }, jEvent, now, { ...profile, traits }, history, io, true)
    }
  }

  /** Applies the entry rule, then starts the run. An entry already made for this key is a no-op. */
  async function enter(
    tx: Tx,
    ws: string,
    live: LiveJourney,
    event: JourneyEvent,
    now: Date,
    profile: ProfileFacts,
    history: EventHistory,
    io: EffectIO,
    inRound = false,
  ): Promise<void> {
    const { journey, version } = live
    const past = await rounds.pastEntries(tx, ws, profile.profileId, journey, now)
    const decision = decideEntry(journey, event, past, now, profile)
    if (!decision.enter) {
      const trace = { workspaceId: ws, profileId: profile.profileId, entries: [decision.trace] }
      if (inRound) rounds.trace(tx, trace)
      else await insertTraces(tx, [trace])
      return
    }
    // A time trigger fired again for the same occurrence (every_time keys by occurrence).
    if (past.some((p) => p.key === decision.key)) return
    const input: AdvanceInput = {
      kind: 'enter',
      runId: runIdOf(ws, profile.profileId, journey.id, decision.key),
      version,
      key: decision.key,
      event,
    }
    const stages = (await settingsOf(tx, ws)).stages.ids
    const result = advance(journey, null, input, now, deps(profile, history, stages))
    await (inRound ? rounds.apply : applyAdvance)(tx, ws, journey, result, now, io)
  }

  const enterAt: EnterAt = async (tx, ws, live, profile, event, now) => {
    const io = directIO(tx, ws, profile.profileId, now, profile.traits)
    const history = await historyFor(tx, ws, profile.profileId, [live.journey], null)
    await enter(tx, ws, live, event, now, profile, history, io)
    return io.traits()
  }
  const time = makeTimeTriggers({ catalog, enterAt })

  /** Moves the runs of due timers (of distinct profiles): each read and each write once for all. */
  const onTimers: BatchTimerHandler = async (tx, timers, now) => {
    const outcomes: Array<{ postponeTo: Date } | undefined> = timers.map(() => undefined)
    const byWorkspace = new Map<string, number[]>()
    for (const [i, t] of timers.entries()) {
      const list = byWorkspace.get(t.workspaceId)
      if (list) list.push(i)
      else byWorkspace.set(t.workspaceId, [i])
    }
    const writes = newAdvanceWrites()
    const emitted: ProfileEvent[] = []
    for (const [ws, indexes] of byWorkspace) {
      const keyOf = (t: (typeof timers)[number]) => ({
        profileId: t.profileId,
        runId: (t.payload as JourneyTimerPayload).runId,
      })
      const runs = await loadRunsForUpdate(
        tx,
        ws,
        indexes.map((i) => keyOf(timers[i]!)),
      )
      const moving: Array<{ i: number; stored: StoredRun; journey: Journey }> = []
      for (const i of indexes) {
        const k = keyOf(timers[i]!)
        const stored = runs.get(`${k.profileId}/${k.runId}`)
        if (!stored) continue
        const journey = await catalog.version(tx, ws, stored.journeyId, stored.version)
        if (!journey) {
          log.warn(
            { journeyId: stored.journeyId, version: stored.version },
            'timer for an unknown journey version',
          )
          continue
        }
        if ((await catalog.status(tx, ws, stored.journeyId)) === 'paused') {
          outcomes[i] = { postponeTo: new Date(now.getTime() + PAUSED_RECHECK_MS) }
          continue
        }
        moving.push({ i, stored, journey })
      }
      if (moving.length === 0) continue
      const profileIds = moving.map((m) => timers[m.i]!.profileId)
      const community = await settingsOf(tx, ws)
      const facts = await loadProfilesFacts(tx, ws, profileIds, now, community.score.halfLifeMs)
      const names = new Set<string>()
      for (const j of new Set(moving.map((m) => m.journey))) performedEvents(j, names)
      const past = names.size > 0 ? await loadEventFactsOfProfiles(tx, ws, profileIds, [...names]) : new Map()
      for (const { i, stored, journey } of moving) {
        const timer = timers[i]!
        const profile = facts.get(timer.profileId)
        if (!profile) continue
        const io = directIO(tx, ws, timer.profileId, now, profile.traits, emitted)
        const history = memoryHistory(past.get(timer.profileId) ?? [])
        const input = { kind: 'timer', timerId: timer.timerId } as const
        const result = advance(journey, stored.run, input, now, deps(profile, history, community.stages.ids))
        await recordAdvance(tx, ws, journey, result, now, io, writes)
      }
    }
    await writeAdvances(tx, writes)
    await emitProfileEvents(tx, emitted)
    return outcomes
  }

  // One timer is a chunk of one: the careful path does exactly the batch's work.
  const onTimer: TimerHandler = async (tx, timer, now) => (await onTimers(tx, [timer], now))[0]

  /**
   * The round's open runs, and the past entries into the live journeys that the round's
   * events trigger by name, for every profile at once (the round cache loads them all).
   */
  async function prefetch(tx: Tx, round: RoundStart): Promise<void> {
    const names = new Set(round.events.map((e) => e.name))
    await settleAll(
      [...round.profiles].map(async ([ws, ids]) => {
        const first = ids[0]
        if (!first) return
        const live = await catalog.live(tx, ws)
        await settleAll([
          rounds.openRuns(tx, ws, first),
          ...live
            .filter(({ journey }) => journey.trigger.type === 'event' && names.has(journey.trigger.event))
            .map(({ journey }) => rounds.pastEntries(tx, ws, first, journey, round.now)),
        ])
      }),
    )
  }

  return {
    hook: { name: 'journeys', onEvent, flush: rounds.flush, prefetch },
    timers: { [JOURNEY_TIMER]: onTimer, ...time.timers },
    batchTimers: { [JOURNEY_TIMER]: onTimers },
  }
}
