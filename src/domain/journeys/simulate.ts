// The simulator core: the same engine on a virtual clock. Events are replayed in time order;
// timers fire in time order between them (a timer due at the same instant as an event fires
// first). Nothing is sent: sends are collected with their time, per profile, with totals.
import type {
  ConditionContext,
  EventFacts,
  EventHistory,
  HistoryQuery,
  ProfileFacts,
} from '../conditions/types.ts'
import { advance, type EngineDeps } from './engine.ts'
import { decideEntry, type PastEntry } from './entry.ts'
import type { JourneyEvent } from './event.ts'
import { type Evaluate, whereCondition } from './match.ts'
import { isFinal, type Run } from './run.ts'
import { TimerQueue } from './timer-queue.ts'
import type { TraceEntry } from './trace.ts'
import { matchesTrigger } from './trigger.ts'
import type { Journey } from './types.ts'

export interface SimulationEvent {
  readonly profileId: string
  readonly event: JourneyEvent
}

export interface SimulatedProfile {
  readonly id: string
  readonly traits?: Readonly<Record<string, unknown>>
  readonly timezone?: string
}

export interface SimulationOptions {
  readonly start: Date
  readonly end: Date
  readonly profiles?: readonly SimulatedProfile[]
  readonly evaluate: Evaluate
  readonly stages?: readonly string[]
  readonly hash?: (text: string) => number
}

export interface SimulatedSend {
  readonly at: Date
  readonly profileId: string
  readonly journeyId: string
  readonly runId: string
  readonly stepId: string
  readonly channel: string
  readonly template: string
  readonly from: string | null
  readonly plainText: boolean
}

export interface SimulationTotals {
  readonly events: number
  readonly entered: number
  readonly skipped: number
  readonly sends: number
  readonly sendsByTemplate: Readonly<Record<string, number>>
  readonly converted: number
  readonly exited: number
  readonly completed: number
  readonly failed: number
  /** Runs still delayed or waiting at the end of the simulated period. */
  readonly inFlight: number
}

export interface SimulationResult {
  readonly sends: readonly SimulatedSend[]
  readonly runs: readonly Run[]
  readonly trace: readonly TraceEntry[]
  readonly totals: SimulationTotals
}

interface ProfileState {
  id: string
  traits: Record<string, unknown>
  timezone: string | null
  firstSeenAt: Date | null
  lastSeenAt: Date | null
  readonly events: EventFacts[]
  /** The community state the history shows: the last `Stage Entered`, badges and segments held. */
  stage: string | null
  readonly badges: Set<string>
  readonly segments: Set<string>
}

/**
 * The community and segment events in a history move the simulated member as they moved the
 * real one (a replay of the stored history has them; the simulator does not compute them).
 */
function follow(p: ProfileState, event: JourneyEvent): void {
  const value = (k: string) =>
    typeof event.properties[k] === 'string' ? (event.properties[k] as string) : null
  const stage = event.name === 'Stage Entered' ? value('stage') : null
  if (stage) p.stage = stage
  const badge = value('badge')
  if (badge && event.name === 'Badge Awarded') p.badges.add(badge)
  if (badge && event.name === 'Badge Revoked') p.badges.delete(badge)
  const segment = value('segment')
  if (segment && event.name === 'Segment Entered') p.segments.add(segment)
  if (segment && event.name === 'Segment Exited') p.segments.delete(segment)
}

export function simulate(
  journeys: readonly Journey[],
  events: readonly SimulationEvent[],
  options: SimulationOptions,
): SimulationResult {
  const { evaluate, start, end } = options
  const profiles = new Map<string, ProfileState>()
  for (const p of options.profiles ?? [])
    profiles.set(p.id, newProfile(p.id, p.traits ?? {}, p.timezone ?? null))
  const journeyById = new Map(journeys.map((j) => [j.id, j]))
  const runs = new Map<string, Run>()
  /** Run ids by profile, so an event looks only at its own profile's runs. */
  const runsOf = new Map<string, string[]>()
  const timers = new TimerQueue()
  const sends: SimulatedSend[] = []
  const trace: TraceEntry[] = []
  let skipped = 0
  let processed = 0

  const profileOf = (id: string) => {
    const known = profiles.get(id)
    if (known) return known
    const p = newProfile(id, {}, null)
    profiles.set(id, p)
    return p
  }

  const depsFor = (p: ProfileState, now: Date): EngineDeps => ({
    evaluate,
    profile: facts(p),
    history: memoryHistory(p, evaluate, now, facts(p)),
    ...(options.stages ? { stages: options.stages } : {}),
    ...(options.hash ? { hash: options.hash } : {}),
  })

  const apply = (journey: Journey, result: ReturnType<typeof advance>, now: Date) => {
    if (!runs.has(result.run.id)) {
      const mine = runsOf.get(result.run.profileId)
      if (mine) mine.push(result.run.id)
      else runsOf.set(result.run.profileId, [result.run.id])
    }
    runs.set(result.run.id, result.run)
    trace.push(...result.trace)
    const p = profileOf(result.run.profileId)
    for (const e of result.effects) {
      switch (e.type) {
        case 'schedule_timer':
          timers.schedule(e.timerId, e.at, e.runId)
          break
        case 'cancel_timer':
          timers.cancel(e.timerId)
          break
        case 'send':
          sends.push({
            at: now,
            profileId: e.profileId,
            journeyId: journey.id,
            runId: e.runId,
            stepId: e.stepId,
            channel: e.channel,
            template: e.template,
            from: e.from,
            plainText: e.plainText,
          })
          break
        case 'update_profile':
          Object.assign(p.traits, e.set)
          for (const k of e.unset) delete p.traits[k]
          // A badge the journey awards: its own Badge Awarded is not in the history.
          if (e.badge) p.badges.add(e.badge)
          break
        case 'emit_event':
          break
        default: {
          const never: never = e
          return never
        }
      }
    }
  }

  const fireTimersUntil = (t: Date, inclusive: boolean) => {
    for (let timer = timers.takeDue(t, inclusive); timer; timer = timers.takeDue(t, inclusive)) {
      const run = runs.get(timer.runId)!
      const journey = journeyById.get(run.journeyId)!
      const p = profileOf(run.profileId)
      apply(
        journey,
        advance(journey, run, { kind: 'timer', timerId: timer.id }, timer.at, depsFor(p, timer.at)),
        timer.at,
      )
    }
  }

  const sorted = [...events]
    .filter((e) => e.event.timestamp >= start && e.event.timestamp <= end)
    .sort((a, b) => a.event.timestamp.getTime() - b.event.timestamp.getTime())

  for (const { profileId, event } of sorted) {
    const now = event.timestamp
    fireTimersUntil(now, true)
    processed++
    const p = profileOf(profileId)
    const previousTraits = { ...p.traits }
    if (event.type === 'identify') Object.assign(p.traits, event.traits)
    follow(p, event)
    p.events.push(event)
    p.firstSeenAt ??= now
    p.lastSeenAt = now
    // Runs in flight see the event before it can start new ones.
    for (const runId of [...(runsOf.get(profileId) ?? [])]) {
      const run = runs.get(runId)!
      if (isFinal(run.status)) continue
      const journey = journeyById.get(run.journeyId)!
      apply(journey, advance(journey, run, { kind: 'event', event }, now, depsFor(p, now)), now)
    }
    for (const journey of journeys) {
      const deps = depsFor(p, now)
      const ctx: ConditionContext = {
        now,
        profile: deps.profile,
        event,
        history: deps.history,
        stages: options.stages ?? [],
      }
      const triggered = matchesTrigger(
        journey.trigger,
        { event, previousTraits, traits: p.traits },
        evaluate,
        ctx,
      )
      if (!triggered) continue
      const past: PastEntry[] = (runsOf.get(profileId) ?? [])
        .map((id) => runs.get(id)!)
        .filter((r) => r.journeyId === journey.id)
        .map((r) => ({ key: r.key, enteredAt: r.enteredAt }))
      const decision = decideEntry(journey, event, past, now, deps.profile)
      if (!decision.enter) {
        skipped++
        trace.push(decision.trace)
        continue
      }
      const runId = `${journey.id}/${profileId}/${decision.key}`
      const input = { kind: 'enter', runId, version: 1, key: decision.key, event } as const
      apply(journey, advance(journey, null, input, now, deps), now)
    }
  }
  fireTimersUntil(end, true)

  const all = [...runs.values()]
  const count = (s: Run['status']) => all.filter((r) => r.status === s).length
  const sendsByTemplate: Record<string, number> = {}
  for (const s of sends) sendsByTemplate[s.template] = (sendsByTemplate[s.template] ?? 0) + 1
  return {
    sends,
    runs: all,
    trace,
    totals: {
      events: processed,
      entered: all.length,
      skipped,
      sends: sends.length,
      sendsByTemplate,
      converted: count('converted'),
      exited: count('exited'),
      completed: count('completed'),
      failed: count('failed'),
      inFlight: all.filter((r) => !isFinal(r.status)).length,
    },
  }
}

function newProfile(
  id: string,
  traits: Readonly<Record<string, unknown>>,
  timezone: string | null,
): ProfileState {
  return {
    id,
    traits: { ...traits },
    timezone,
    firstSeenAt: null,
    lastSeenAt: null,
    events: [],
    stage: null,
    badges: new Set(),
    segments: new Set(),
  }
}

function facts(p: ProfileState): ProfileFacts {
  const tz = p.timezone ?? (typeof p.traits['timezone'] === 'string' ? p.traits['timezone'] : null)
  return {
    profileId: p.id,
    userId: p.id,
    traits: { ...p.traits },
    firstSeenAt: p.firstSeenAt,
    lastSeenAt: p.lastSeenAt,
    timezone: tz,
    segments: new Set(p.segments),
    badges: new Set(p.badges),
    stage: p.stage ?? (typeof p.traits['stage'] === 'string' ? p.traits['stage'] : null),
    score: 0,
  }
}

/** The profile's simulated past, matched with the same evaluator as everything else. */
function memoryHistory(p: ProfileState, evaluate: Evaluate, now: Date, profile: ProfileFacts): EventHistory {
  return {
    count(q: HistoryQuery): number {
      const where = whereCondition(q)
      return p.events.filter(
        (e) =>
          e.name === q.event &&
          (q.from === null || e.timestamp >= q.from) &&
          (q.to === null || e.timestamp <= q.to) &&
          (where === null ||
            evaluate(where, { now, profile, event: e, history: { count: () => 0 }, stages: [] })),
      ).length
    },
  }
}
