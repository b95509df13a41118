// The working state of one advance: the run being changed, the effects and trace entries
// it produces, and the small moves every step shares (park on a timer, end the run).
import type { ConditionContext, EventFacts, EventHistory, ProfileFacts } from '../conditions/types.ts'
import { type Effect, effectKey, type JourneyEventName, type TimerPurpose } from './effects.ts'
import type { Evaluate } from './match.ts'
import type { JourneyPlan } from './plan.ts'
import type { Pending, Run, RunStatus } from './run.ts'
import type { TraceEntry, TraceKind } from './trace.ts'
import type { Journey } from './types.ts'
import { isTimezone } from './zoned-time.ts'

export interface EngineDeps {
  /** The condition evaluator (injected: the engine never imports one). */
  readonly evaluate: Evaluate
  /** The profile as it is now, traits and timezone included. */
  readonly profile: ProfileFacts
  readonly history: EventHistory
  /** Funnel stage order, for stage conditions. */
  readonly stages?: readonly string[]
  /** A stable 32-bit hash for sticky splits (default: FNV-1a). */
  readonly hash?: (text: string) => number
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] }

export interface Session {
  readonly journey: Journey
  readonly plan: JourneyPlan
  readonly deps: EngineDeps
  readonly now: Date
  run: Mutable<Run>
  readonly effects: Effect[]
  readonly trace: TraceEntry[]
}

export function note(
  s: Session,
  kind: TraceKind,
  stepId: string | null,
  message: string,
  data: Record<string, unknown> = {},
): void {
  s.trace.push({ at: s.now, journeyId: s.journey.id, runId: s.run.id, stepId, kind, message, data })
}

export function conditionContext(s: Session, event: EventFacts | null): ConditionContext {
  return { now: s.now, profile: s.deps.profile, event, history: s.deps.history, stages: s.deps.stages ?? [] }
}

export function timezoneOf(s: Session): string {
  const tz = s.deps.profile.timezone
  if (tz && isTimezone(tz)) return tz
  return s.journey.timezone ?? 'UTC'
}

export function emit(
  s: Session,
  name: JourneyEventName,
  what: string,
  properties: Record<string, unknown>,
): void {
  s.effects.push({
    type: 'emit_event',
    name,
    profileId: s.run.profileId,
    properties: {
      journey_id: s.run.journeyId,
      journey_version: s.run.version,
      run_id: s.run.id,
      ...properties,
    },
    idempotencyKey: effectKey(s.run.id, 'journey', what),
  })
}

/** Parks the run on a timer. */
export function park(s: Session, pending: Pending, purpose: TimerPurpose, status: RunStatus): void {
  s.run.pending = pending
  s.run.status = status
  s.run.cursor = pending.kind === 'goal' ? null : pending.stepId
  s.effects.push({
    type: 'schedule_timer',
    timerId: pending.timerId,
    runId: s.run.id,
    at: pending.until,
    purpose,
    stepId: pending.kind === 'goal' ? null : pending.stepId,
    idempotencyKey: pending.timerId,
  })
}

/** Leaves the pending state; its timer is cancelled unless it is the one that just fired. */
export function release(s: Session, fired: boolean): void {
  const p = s.run.pending
  if (!p) return
  if (!fired) {
    s.effects.push({
      type: 'cancel_timer',
      timerId: p.timerId,
      runId: s.run.id,
      idempotencyKey: `${p.timerId}/cancel`,
    })
  }
  s.run.pending = null
  s.run.cursor = null
}

export function timerId(s: Session, stepId: string): string {
  return effectKey(s.run.id, stepId, 'timer')
}

/** Ends the run for good. */
export function end(
  s: Session,
  status: 'completed' | 'exited' | 'converted' | 'failed',
  stepId: string | null,
  outcome: string,
  data: Record<string, unknown> = {},
): void {
  release(s, false)
  s.run.status = status
  s.run.endedAt = s.now
  s.run.outcome = outcome
  const kind: TraceKind = status
  note(s, kind, stepId, outcome, data)
  if (status === 'converted') {
    const last = s.run.lastSend
    emit(s, 'Journey Converted', 'converted', {
      goal: data['goal'] ?? null,
      attributed_step: last?.stepId ?? null,
      attributed_template: last?.template ?? null,
      attributed_channel: last?.channel ?? null,
    })
  } else {
    emit(s, 'Journey Exited', 'exited', { reason: status === 'exited' ? (data['reason'] ?? 'exit') : status })
  }
}
