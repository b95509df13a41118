// Moving a member through the funnel: one stage at a time, every transition recorded and
// emitted, demotion only after a grace period, and one `Stage Stuck` per stage entry.
// Pure: the caller gives the state, the condition context and the time.
import { DAY } from '../conditions/duration.ts'
import { evaluate } from '../conditions/evaluate.ts'
import type { ConditionContext } from '../conditions/types.ts'
import type { CommunityEvent } from './internal-event.ts'
import type { CompiledStages } from './stage-config.ts'

/**
 * Where a member stands. `demotionPendingSince` is when the current stage's demotion
 * condition was first seen holding (reset as soon as it is seen not holding);
 * `stuckNotifiedAt` makes `Stage Stuck` fire once per entry (reset on every entry).
 */
export interface StageState {
  readonly stage: string
  readonly enteredAt: Date
  readonly demotionPendingSince: Date | null
  readonly stuckNotifiedAt: Date | null
}

export interface StageEnteredProperties extends Record<string, unknown> {
  readonly stage: string
  readonly stage_name: string
  readonly stage_index: number
  readonly previous_stage: string | null
  /** Time spent in the previous stage; 0 for the stages crossed within one evaluation. */
  readonly time_in_previous_stage_ms: number | null
  readonly direction: 'up' | 'down'
  /** Who moved the member by hand; absent for automatic moves. */
  readonly by?: string
}

export interface StageOutcome {
  readonly state: StageState | null
  /** `Stage Entered` events, in order. */
  readonly transitions: readonly CommunityEvent<StageEnteredProperties>[]
  /** When to evaluate again without a new event, because a demotion may be due; or null. */
  readonly recheckAt: Date | null
  /** When this entry's `Stage Stuck` timer should fire; null if none or already fired. */
  readonly stuckAt: Date | null
}

// A demotion condition can start holding with no event at all ("no post in 60 days"),
// so members in a stage with demotion are re-evaluated at least daily.
const MAX_RECHECK_MS = DAY
const MIN_RECHECK_MS = 60_000

function entry(stage: string, at: Date): StageState {
  return { stage, enteredAt: at, demotionPendingSince: null, stuckNotifiedAt: null }
}

interface Move {
  /** The state left, null for a member placed for the first time. */
  readonly from: StageState | null
  readonly to: number
  readonly direction: 'up' | 'down'
  readonly now: Date
  readonly by?: string
}

/**
 * Records the `Stage Entered` of one step and returns the new entry. Only the first step
 * of an evaluation spent time in its previous stage: the stages crossed after it were
 * held for no time.
 */
function enter(
  stages: CompiledStages,
  transitions: CommunityEvent<StageEnteredProperties>[],
  m: Move,
): StageState {
  const def = stages.stages[m.to]!
  const spent = transitions.length === 0 && m.from ? m.now.getTime() - m.from.enteredAt.getTime() : 0
  transitions.push({
    name: 'Stage Entered',
    timestamp: m.now,
    properties: {
      stage: def.id,
      stage_name: def.name,
      stage_index: m.to,
      previous_stage: m.from?.stage ?? null,
      time_in_previous_stage_ms: m.from ? spent : null,
      direction: m.direction,
      ...(m.by === undefined ? {} : { by: m.by }),
    },
  })
  return entry(def.id, m.now)
}

function withStage(ctx: ConditionContext, stages: CompiledStages, stage: string | null): ConditionContext {
  return { ...ctx, stages: stages.ids, profile: { ...ctx.profile, stage } }
}

/**
 * Evaluates the funnel for one member at `ctx.now`. Meeting stage 5's criteria from stage
 * 2 yields 2→3, 3→4, 4→5 in that order, each checked against the criteria of the next
 * stage. A member is never promoted into a stage whose demotion condition already holds
 * (that would flap). A demotion moves down one stage and ends the evaluation: climbing
 * back needs a later evaluation. A stage id no longer in the configuration is treated
 * as no stage: the member is placed again from the first stage.
 */
export function progress(
  stages: CompiledStages,
  state: StageState | null,
  ctx: ConditionContext,
): StageOutcome {
  const now = ctx.now
  const transitions: CommunityEvent<StageEnteredProperties>[] = []
  const move = (from: StageState | null, to: number, direction: 'up' | 'down') =>
    enter(stages, transitions, { from, to, direction, now })
  const canEnter = (i: number, from: string | null): boolean => {
    const def = stages.stages[i]!
    if (!evaluate(def.criteria, withStage(ctx, stages, from))) return false
    return !(def.demotion && evaluate(def.demotion.when, withStage(ctx, stages, def.id)))
  }

  let cur: StageState | null = state && stages.index.has(state.stage) ? state : null
  let demoted = false
  if (!cur) {
    if (!canEnter(0, null)) return { state: null, transitions, recheckAt: null, stuckAt: null }
    cur = move(state, 0, 'up')
  } else {
    const i = stages.index.get(cur.stage)!
    const def = stages.stages[i]!
    if (def.demotion) {
      if (evaluate(def.demotion.when, withStage(ctx, stages, cur.stage))) {
        const since = cur.demotionPendingSince ?? now
        if (now.getTime() - since.getTime() >= stages.graceMs[i]!) {
          cur = move(cur, i - 1, 'down')
          demoted = true
        } else cur = { ...cur, demotionPendingSince: since }
      } else if (cur.demotionPendingSince) cur = { ...cur, demotionPendingSince: null }
    }
  }
  if (!demoted) {
    for (let i = stages.index.get(cur.stage)! + 1; i < stages.ids.length && canEnter(i, cur.stage); i++) {
      cur = move(cur, i, 'up')
    }
  }
  return {
    state: cur,
    transitions,
    recheckAt: recheckAt(stages, cur, now),
    stuckAt: pendingStuckAt(stages, cur),
  }
}

function recheckAt(stages: CompiledStages, s: StageState, now: Date): Date | null {
  const grace = stages.graceMs[stages.index.get(s.stage)!]
  if (grace === null || grace === undefined) return null
  if (s.demotionPendingSince) return new Date(s.demotionPendingSince.getTime() + grace)
  return new Date(now.getTime() + Math.min(Math.max(grace, MIN_RECHECK_MS), MAX_RECHECK_MS))
}

function pendingStuckAt(stages: CompiledStages, s: StageState): Date | null {
  return s.stuckNotifiedAt ? null : stuckAt(stages, s.stage, s.enteredAt)
}

/**
 * Moves a member by hand (admin API) to `target`, still one stage at a time so that each
 * stage's welcome actions happen, every transition carrying who did it. Automatic rules
 * keep applying afterwards: a manual move is not a lock.
 */
export function moveStage(
  stages: CompiledStages,
  state: StageState | null,
  target: string,
  now: Date,
  by: string,
): StageOutcome {
  const to = stages.index.get(target)
  if (to === undefined) throw new Error(`unknown stage "${target}": validate the target first`)
  const transitions: CommunityEvent<StageEnteredProperties>[] = []
  const step = (from: StageState | null, to: number, direction: 'up' | 'down') =>
    enter(stages, transitions, { from, to, direction, now, by })
  let cur: StageState | null = state && stages.index.has(state.stage) ? state : null
  if (!cur) cur = step(state, 0, 'up')
  let i = stages.index.get(cur.stage)!
  while (i !== to) {
    i += i < to ? 1 : -1
    cur = step(cur, i, i > stages.index.get(cur.stage)! ? 'up' : 'down')
  }
  return {
    state: cur,
    transitions,
    recheckAt: recheckAt(stages, cur, now),
    stuckAt: pendingStuckAt(stages, cur),
  }
}

/** When a member who entered `stage` at `enteredAt` becomes stuck there; null if never. */
export function stuckAt(stages: CompiledStages, stage: string, enteredAt: Date): Date | null {
  const i = stages.index.get(stage)
  const after = i === undefined ? null : stages.stuckAfterMs[i]
  return after === null || after === undefined ? null : new Date(enteredAt.getTime() + after)
}

export interface StuckTimer {
  readonly stage: string
  /** The entry the timer was set for: a timer from an earlier entry is stale. */
  readonly enteredAt: Date
}

export interface StageStuckProperties extends Record<string, unknown> {
  readonly stage: string
  readonly stage_name: string
  readonly entered_at: string
  readonly time_in_stage_ms: number
  readonly stuck_after_ms: number
}

/**
 * Handles a due `Stage Stuck` timer. Fires only if the member is still in the same entry
 * of that stage and has not been told yet: a timer firing twice (at-least-once
 * scheduling) or left over from a stage the member has since left emits nothing.
 */
export function fireStuck(
  stages: CompiledStages,
  state: StageState | null,
  timer: StuckTimer,
  now: Date,
): { readonly state: StageState; readonly event: CommunityEvent<StageStuckProperties> } | null {
  if (!state || state.stage !== timer.stage || state.enteredAt.getTime() !== timer.enteredAt.getTime())
    return null
  if (state.stuckNotifiedAt) return null
  const due = stuckAt(stages, state.stage, state.enteredAt)
  if (!due || due.getTime() > now.getTime()) return null
  const def = stages.stages[stages.index.get(state.stage)!]!
  return {
    state: { ...state, stuckNotifiedAt: now },
    event: {
      name: 'Stage Stuck',
      timestamp: now,
      properties: {
        stage: def.id,
        stage_name: def.name,
        entered_at: state.enteredAt.toISOString(),
        time_in_stage_ms: now.getTime() - state.enteredAt.getTime(),
        stuck_after_ms: due.getTime() - state.enteredAt.getTime(),
      },
    },
  }
}

/** For the stuck list: in the stage longer than its threshold at `now`. */
export function isStuck(stages: CompiledStages, state: StageState, now: Date): boolean {
  const due = stuckAt(stages, state.stage, state.enteredAt)
  return due !== null && due.getTime() <= now.getTime()
}
