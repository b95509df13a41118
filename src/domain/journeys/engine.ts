// The journey engine: a pure function (journey, run, input, now, deps) → (run, effects,
// trace). No I/O and no clock of its own: the runtime stores the run, applies the effects
// and the trace in one transaction, and feeds timers back when they are due.
import type { EventFacts } from '../conditions/types.ts'
import { describeCondition, describeCriterion, describeTrigger } from './describe.ts'
import { durationMs } from './duration.ts'
import type { Effect } from './effects.ts'
import type { JourneyEvent } from './event.ts'
import { correlationValue, matchesEvent } from './match.ts'
import { enterBlock, nextAfter, planOf } from './plan.ts'
import { isFinal, type Run } from './run.ts'
import { conditionContext, type EngineDeps, emit, end, note, release, type Session } from './session.ts'
import type { TraceEntry } from './trace.ts'
import { type Criterion, isEventCriterion, type Journey, type WaitStep } from './types.ts'
import { walk } from './walk.ts'

export type { EngineDeps } from './session.ts'

export type AdvanceInput =
  /** Start a run (decideEntry said yes). */
  | {
      readonly kind: 'enter'
      readonly runId: string
      readonly version: number
      readonly key: string
      readonly event: JourneyEvent
    }
  /** An event of the run's profile, processed in order. */
  | { readonly kind: 'event'; readonly event: JourneyEvent }
  /** A timer of the run came due. */
  | { readonly kind: 'timer'; readonly timerId: string }

export interface AdvanceResult {
  readonly run: Run
  readonly effects: readonly Effect[]
  readonly trace: readonly TraceEntry[]
}

/**
 * Moves a run forward. `run` is null exactly for an `enter` input. Replaying the same input
 * on the same run gives the same result, effects and keys included.
 */
export function advance(
  journey: Journey,
  run: Run | null,
  input: AdvanceInput,
  now: Date,
  deps: EngineDeps,
): AdvanceResult {
  if ((input.kind === 'enter') !== (run === null))
    throw new Error('advance: give a run for every input but enter')
  const s: Session = {
    journey,
    plan: planOf(journey),
    deps,
    now,
    run: run
      ? { ...run, updatedAt: now }
      : newRun(journey, input as Extract<AdvanceInput, { kind: 'enter' }>, now, deps),
    effects: [],
    trace: [],
  }
  if (run && isFinal(run.status)) {
    if (input.kind === 'timer')
      note(s, 'timer_stale', null, `timer ignored: the run had already ended (${run.status})`)
    return { run, effects: [], trace: s.trace }
  }
  try {
    switch (input.kind) {
      case 'enter':
        onEnter(s)
        break
      case 'event':
        onEvent(s, input.event)
        break
      case 'timer':
        onTimer(s, input.timerId)
        break
      default: {
        const never: never = input
        return never
      }
    }
  } catch (err) {
    // A condition that cannot be evaluated fails this run only; other runs go on.
    const message = err instanceof Error ? err.message : String(err)
    if (!isFinal(s.run.status)) end(s, 'failed', s.run.cursor, `failed: ${message}`, { error: message })
  }
  return { run: s.run, effects: s.effects, trace: s.trace }
}

function newRun(
  journey: Journey,
  input: Extract<AdvanceInput, { kind: 'enter' }>,
  now: Date,
  deps: EngineDeps,
): Session['run'] {
  const goal = journey.goal
  const goalCorrelation =
    goal && isEventCriterion(goal) && goal.correlate !== undefined
      ? { goal: correlationValue(goal.correlate, input.event) }
      : {}
  return {
    id: input.runId,
    journeyId: journey.id,
    version: input.version,
    profileId: deps.profile.profileId,
    key: input.key,
    status: 'waiting',
    cursor: null,
    pending: null,
    triggerEvent: input.event,
    correlation: goalCorrelation,
    enteredAt: now,
    updatedAt: now,
    endedAt: null,
    outcome: null,
    lastSend: null,
  }
}

function onEnter(s: Session): void {
  const e = s.run.triggerEvent
  emit(s, 'Journey Entered', 'entered', { key: s.run.key, trigger_event_id: e.id })
  note(
    s,
    'entered',
    null,
    `entered because ${describeTrigger(s.journey.trigger)} happened (key ${s.run.key})`,
    {
      key: s.run.key,
      event: e.name,
      eventId: e.id,
    },
  )
  // Someone who already meets the goal or an exit condition does not start the series.
  // Only conditions are checked here: a goal or exit *event* is one that comes after entry.
  if (endOnConditions(s, e)) return
  walk(s, s.plan.top[0] ?? null)
}

function onEvent(s: Session, event: JourneyEvent): void {
  const pending = s.run.pending
  // A timer already due that the scheduler has not fired yet came first.
  if (pending && pending.until.getTime() <= s.now.getTime()) {
    resume(s, false)
    if (isFinal(s.run.status)) return
  }
  if (checkGoal(s, event) || checkExits(s, event)) return
  const current = s.run.pending
  if (current?.kind !== 'wait') return
  const node = s.plan.byId.get(current.stepId)!
  const wait = node.step as WaitStep
  const expected = s.run.correlation[node.id]
  if (!matchesEvent(wait.for, event, expected, s.deps.evaluate, conditionContext(s, event))) return
  release(s, false)
  note(s, 'received', node.id, `${event.name} happened: taking the on_event path`, { eventId: event.id })
  walk(s, enterBlock(node, 'on_event'))
}

function onTimer(s: Session, timerId: string): void {
  const pending = s.run.pending
  if (!pending || pending.timerId !== timerId) {
    note(s, 'timer_stale', null, `timer ${timerId} ignored: the run no longer waits for it`, { timerId })
    return
  }
  if (s.now.getTime() < pending.until.getTime()) {
    // Fired early (or this worker's clock is behind): keep waiting, never skip ahead.
    s.effects.push({
      type: 'schedule_timer',
      timerId,
      runId: s.run.id,
      at: pending.until,
      purpose: pending.kind === 'delay' ? 'delay' : pending.kind === 'wait' ? 'wait_timeout' : 'goal_window',
      stepId: pending.kind === 'goal' ? null : pending.stepId,
      idempotencyKey: timerId,
    })
    note(s, 'timer_early', s.run.cursor, `timer fired before ${pending.until.toISOString()}: still waiting`, {
      timerId,
      until: pending.until,
    })
    return
  }
  resume(s, true)
}

/** The pending timer is due: conditions first (time alone may have changed them), then go on. */
function resume(s: Session, fired: boolean): void {
  const pending = s.run.pending!
  if (pending.kind !== 'goal' && endOnConditions(s, null, fired)) return
  release(s, fired)
  switch (pending.kind) {
    case 'delay':
      walk(s, nextAfter(s.plan.byId.get(pending.stepId)!))
      return
    case 'wait': {
      const node = s.plan.byId.get(pending.stepId)!
      const wait = node.step as WaitStep
      note(
        s,
        'timed_out',
        node.id,
        `no ${wait.for.event} within ${wait.timeout}: taking the on_timeout path`,
        {},
      )
      walk(s, enterBlock(node, 'on_timeout'))
      return
    }
    case 'goal': {
      const goal = s.journey.goal!
      end(
        s,
        'completed',
        null,
        `completed: goal ${describeCriterion(goal)} not reached within ${goal.within}`,
      )
      return
    }
    default: {
      const never: never = pending
      throw new Error(`unknown pending ${JSON.stringify(never)}`)
    }
  }
}

function goalOpen(s: Session): boolean {
  const within = s.journey.goal?.within
  return within === undefined || s.now.getTime() <= s.run.enteredAt.getTime() + durationMs(within)
}

function checkGoal(s: Session, event: JourneyEvent): boolean {
  const goal = s.journey.goal
  if (!goal || !goalOpen(s)) return false
  if (!criterionMet(s, goal, event, s.run.correlation['goal'])) return false
  end(s, 'converted', s.run.cursor, `converted: goal ${describeCriterion(goal)} reached`, {
    goal: describeCriterion(goal),
    eventId: event.id,
  })
  return true
}

function checkExits(s: Session, event: JourneyEvent): boolean {
  for (const exit of s.journey.exit ?? []) {
    const expected = isEventCriterion(exit) ? correlationValue(exit.correlate, s.run.triggerEvent) : undefined
    if (criterionMet(s, exit, event, expected)) {
      end(s, 'exited', s.run.cursor, `exited: ${describeCriterion(exit)}`, {
        reason: 'exit_condition',
        criterion: describeCriterion(exit),
        eventId: event.id,
      })
      return true
    }
  }
  return false
}

/** Goal and exit criteria that are conditions (no event needed): at entry and when a timer is due. */
function endOnConditions(s: Session, event: EventFacts | null, fired = false): boolean {
  const ctx = conditionContext(s, event)
  const goal = s.journey.goal
  if (goal && !isEventCriterion(goal) && goalOpen(s) && s.deps.evaluate(goal.condition, ctx)) {
    if (fired) release(s, true)
    end(s, 'converted', s.run.cursor, `converted: goal ${describeCondition(goal.condition)} reached`, {
      goal: describeCondition(goal.condition),
    })
    return true
  }
  for (const exit of s.journey.exit ?? []) {
    if (!isEventCriterion(exit) && s.deps.evaluate(exit.condition, ctx)) {
      if (fired) release(s, true)
      end(s, 'exited', s.run.cursor, `exited: ${describeCondition(exit.condition)}`, {
        reason: 'exit_condition',
        criterion: describeCondition(exit.condition),
      })
      return true
    }
  }
  return false
}

function criterionMet(s: Session, c: Criterion, event: JourneyEvent, expected: unknown): boolean {
  const ctx = conditionContext(s, event)
  if (isEventCriterion(c)) return matchesEvent(c, event, expected, s.deps.evaluate, ctx)
  return s.deps.evaluate(c.condition, ctx)
}
