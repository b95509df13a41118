// The community model's timers: `Stage Stuck` once per stage entry, a re-evaluation for
// demotions (a rule like "no post in 60 days" becomes true with no event) and after a
// configuration change, and score decay across a threshold (`Score Crossed` down).
import { applyDecay, nextDownCrossingAt } from '../../domain/community/score.ts'
import { fireStuck } from '../../domain/community/stage-progress.ts'
import { loadScore, loadStageState, saveScore, saveStageOutcome } from '../../store/community.ts'
import { newRollupWrites, writeRollups } from '../../store/community-rollups.ts'
import type { Tx } from '../../store/db.ts'
import { emitProfileEvent } from '../../store/events.ts'
import type { ClaimedTimer } from '../../store/timers.ts'
import type { TimerHandler } from '../scheduler.ts'
import { COMMUNITY_HOOK } from './hook.ts'
import { DECAY_TIMER, type EmitCommunity, evaluateMember, RECHECK_TIMER, STUCK_TIMER } from './member.ts'
import { loadSettings } from './settings.ts'

/** Emits for a timer: the messageId is fixed by the timer's due time, so a retry adds nothing. */
export function timerEmitter(tx: Tx, timer: ClaimedTimer): EmitCommunity {
  return async (e, key) => {
    await emitProfileEvent(tx, {
      workspaceId: timer.workspaceId,
      profileId: timer.profileId,
      messageId: `nudge:${COMMUNITY_HOOK}:${key}:${timer.timerId}:${timer.fireAt.toISOString()}:${timer.profileId}`,
      event: e.name,
      properties: e.properties,
      at: e.timestamp,
    })
  }
}

const onStuck: TimerHandler = async (tx, timer, now) => {
  const p = timer.payload as { stage?: string; enteredAt?: string }
  if (typeof p.stage !== 'string' || typeof p.enteredAt !== 'string') return
  const settings = await loadSettings(tx, timer.workspaceId)
  const state = await loadStageState(tx, timer.workspaceId, timer.profileId)
  const fired = fireStuck(settings.stages, state, { stage: p.stage, enteredAt: new Date(p.enteredAt) }, now)
  if (!fired) return
  await saveStageOutcome(
    tx,
    timer.workspaceId,
    timer.profileId,
    { state: fired.state, transitions: [], recheckAt: null, stuckAt: null },
    newRollupWrites(),
  )
  await timerEmitter(tx, timer)(fired.event, `Stage Stuck:${p.stage}`)
}

const onRecheck: TimerHandler = async (tx, timer, now) => {
  const settings = await loadSettings(tx, timer.workspaceId)
  const p = timer.payload as { reconfigured?: boolean }
  const writes = newRollupWrites()
  const next = await evaluateMember(
    tx,
    settings,
    {
      workspaceId: timer.workspaceId,
      profileId: timer.profileId,
      now,
      event: null,
      reconfigured: p.reconfigured === true,
      inRecheckTimer: true,
    },
    timerEmitter(tx, timer),
    writes,
  )
  await writeRollups(tx, writes)
  // The recheck timer moves itself: it cannot be rescheduled from inside its transaction.
  return next ? { postponeTo: next } : undefined
}

const onDecay: TimerHandler = async (tx, timer, now) => {
  const settings = await loadSettings(tx, timer.workspaceId)
  const stored = await loadScore(tx, timer.workspaceId, timer.profileId)
  if (!stored) return
  const upd = applyDecay(settings.score, stored, now)
  await saveScore(tx, timer.workspaceId, timer.profileId, upd.state, settings.score.halfLifeMs)
  const emit = timerEmitter(tx, timer)
  for (const e of upd.events)
    await emit(e, `Score Crossed:${e.properties.threshold}:${e.properties.direction}`)
  // The decay timer moves itself: it cannot be rescheduled from inside its transaction.
  const next = nextDownCrossingAt(settings.score, upd.state)
  return next ? { postponeTo: next } : undefined
}

export const communityTimers: Readonly<Record<string, TimerHandler>> = {
  [STUCK_TIMER]: onStuck,
  [RECHECK_TIMER]: onRecheck,
  [DECAY_TIMER]: onDecay,
}
