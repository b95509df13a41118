// One member's community state brought up to date: score (points for the event, decay on
// read), stage (one stage at a time), badges, and the timers that wake the member again
// (stuck, demotion recheck, score decay). The processor hook, the timer handlers and the
// admin API all go through here, inside their own transaction.
import type { BadgeRule } from '../../domain/community/badge-rules.ts'
import { evaluateBadgeRules, recordAwards } from '../../domain/community/badges.ts'
import type { CommunityEvent } from '../../domain/community/internal-event.ts'
import {
  applyEvent,
  nextDownCrossingAt,
  type ScoreState,
  scoreAt,
  ZERO_SCORE,
} from '../../domain/community/score.ts'
import { progress, type StageOutcome, type StageState } from '../../domain/community/stage-progress.ts'
import { memoryHistory } from '../../domain/conditions/history.ts'
import type { ConditionContext, EventFacts, EventHistory } from '../../domain/conditions/types.ts'
import type { Traits } from '../../domain/profiles/traits.ts'
import {
  loadBadges,
  loadScore,
  loadStageState,
  saveBadge,
  saveScore,
  saveStageOutcome,
} from '../../store/community.ts'
import type { RollupWrites } from '../../store/community-rollups.ts'
import type { Queryable } from '../../store/db.ts'
import { loadEventFacts, loadProfileFacts } from '../../store/profile-facts.ts'
import { cancelTimers, scheduleTimers } from '../../store/timers.ts'
import type { CommunitySettings } from './settings.ts'

export const STUCK_TIMER = 'community.stuck'
export const RECHECK_TIMER = 'community.recheck'
export const DECAY_TIMER = 'community.decay'
export const stuckTimerId = (stage: string) => `community:stuck:${stage}`
export const RECHECK_TIMER_ID = 'community:recheck'
export const DECAY_TIMER_ID = 'community:decay'

/** Appends a community event for the member; `key` is unique among one cause's events. */
export type EmitCommunity = (e: CommunityEvent, key: string) => Promise<void>

export interface MemberInput {
  readonly workspaceId: string
  readonly profileId: string
  readonly now: Date
  /** The event being processed, or null for a re-evaluation (timer, configuration change). */
  readonly event: (EventFacts & { readonly messageId: string }) | null
  /** Traits as the processor holds them for this event (newer than the stored row). */
  readonly traits?: Traits
  /** A `Badge Awarded` event never re-awards the badge it announces (no loop). */
  readonly announcedBadge?: string | null
  /** Set after a configuration change: timers are set again even without a move. */
  readonly reconfigured?: boolean
  /**
   * Set by the recheck timer's handler: the timer being handled cannot be rescheduled
   * from inside its own transaction, so the next recheck time is returned instead.
   */
  readonly inRecheckTimer?: boolean
}

const namesOf = new WeakMap<CommunitySettings, string[]>()

/** Event names that `performed` conditions or count rules of the configuration ask about. */
export function historyNames(s: CommunitySettings): string[] {
  // Asked for every event: walk each configuration once.
  const known = namesOf.get(s)
  if (known) return known
  const names = walkHistoryNames(s)
  namesOf.set(s, names)
  return names
}

function walkHistoryNames(s: CommunitySettings): string[] {
  const out = new Set<string>()
  const walk = (v: unknown) => {
    if (Array.isArray(v)) for (const x of v) walk(x)
    else if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>
      if ((o['type'] === 'performed' || o['type'] === 'count') && typeof o['event'] === 'string')
        out.add(o['event'])
      for (const x of Object.values(o)) walk(x)
    }
  }
  walk(s.stageConfig)
  walk(s.badges)
  return [...out]
}

async function historyOf(q: Queryable, s: CommunitySettings, m: MemberInput): Promise<EventHistory> {
  const names = historyNames(s)
  if (names.length === 0) return memoryHistory([])
  const past = await loadEventFacts(q, m.workspaceId, m.profileId, names)
  // The event being processed is not yet marked with its profile in the log.
  const cur = m.event
  if (cur && names.includes(cur.name ?? '') && !past.some((e) => e.messageId === cur.messageId))
    past.push(cur)
  return memoryHistory(past)
}

export async function updateScore(
  q: Queryable,
  s: CommunitySettings,
  m: MemberInput,
  stored: ScoreState | null,
  emit: EmitCommunity,
  writes: RollupWrites,
): Promise<ScoreState> {
  const state = stored ?? ZERO_SCORE
  if (!m.event?.name) return state
  const upd = applyEvent(s.score, state, m.event.name, m.event.timestamp)
  if (upd.points === 0) return state
  await saveScore(q, m.workspaceId, m.profileId, upd.state, s.score.halfLifeMs)
  if (upd.points > 0)
    writes.activity.push({ workspaceId: m.workspaceId, profileId: m.profileId, at: m.event.timestamp })
  for (const e of upd.events)
    await emit(e, `Score Crossed:${e.properties.threshold}:${e.properties.direction}`)
  await scheduleDecay(q, s, m.workspaceId, m.profileId, upd.state)
  return upd.state
}

export async function scheduleDecay(
  q: Queryable,
  s: CommunitySettings,
  ws: string,
  profileId: string,
  state: ScoreState,
): Promise<void> {
  const at = nextDownCrossingAt(s.score, state)
  const key = { workspaceId: ws, profileId, timerId: DECAY_TIMER_ID }
  if (at) await scheduleTimers(q, [{ ...key, kind: DECAY_TIMER, fireAt: at, payload: {} }])
  else await cancelTimers(q, [key])
}

/** Stores a stage outcome, emits its transitions and moves the stuck and recheck timers. */
export async function applyStageOutcome(
  q: Queryable,
  ws: string,
  profileId: string,
  before: StageState | null,
  out: StageOutcome,
  emit: EmitCommunity,
  writes: RollupWrites,
  opts: { readonly reconfigured?: boolean; readonly inRecheckTimer?: boolean } = {},
): Promise<void> {
  const reconfigured = opts.reconfigured === true
  const moved = out.transitions.length > 0
  const changed =
    moved ||
    out.state?.demotionPendingSince?.getTime() !== before?.demotionPendingSince?.getTime() ||
    (out.state === null) !== (before === null)
  if (changed) await saveStageOutcome(q, ws, profileId, out, writes)
  for (const [n, t] of out.transitions.entries()) await emit(t, `Stage Entered:${n}:${t.properties.stage}`)
  if (moved || reconfigured) {
    if (before && before.stage !== out.state?.stage)
      await cancelTimers(q, [{ workspaceId: ws, profileId, timerId: stuckTimerId(before.stage) }])
    if (out.state && out.stuckAt) {
      await scheduleTimers(q, [
        {
          workspaceId: ws,
          profileId,
          timerId: stuckTimerId(out.state.stage),
          kind: STUCK_TIMER,
          fireAt: out.stuckAt,
          payload: { stage: out.state.stage, enteredAt: out.state.enteredAt.toISOString() },
        },
      ])
    }
  }
  if (opts.inRecheckTimer) return
  const recheck = { workspaceId: ws, profileId, timerId: RECHECK_TIMER_ID }
  if (out.recheckAt)
    await scheduleTimers(q, [{ ...recheck, kind: RECHECK_TIMER, fireAt: out.recheckAt, payload: {} }])
  else if (moved || reconfigured) await cancelTimers(q, [recheck])
}

/** Awards what the badge rules owe now, stores each badge held and emits `Badge Awarded`. */
async function awardBadges(
  q: Queryable,
  rules: readonly BadgeRule[],
  ctx: ConditionContext,
  m: MemberInput,
  emit: EmitCommunity,
): Promise<void> {
  if (rules.length === 0) return
  const held = await loadBadges(q, m.workspaceId, m.profileId)
  const eligible = m.announcedBadge ? rules.filter((r) => r.id !== m.announcedBadge) : rules
  const awards = evaluateBadgeRules(eligible, ctx, held)
  const byBadge = new Map<string, typeof awards>()
  for (const a of awards) byBadge.set(a.properties.badge, [...(byBadge.get(a.properties.badge) ?? []), a])
  for (const [badge, list] of byBadge) {
    const next = recordAwards(held.get(badge), list)
    if (next) await saveBadge(q, m.workspaceId, m.profileId, next)
  }
  for (const a of awards) await emit(a, `Badge Awarded:${a.properties.badge}:${a.properties.occurrence}`)
}

/**
 * Brings one member up to date. Returns when the member must be evaluated again without
 * an event (a pending demotion), or null (also when the profile does not exist). What the
 * reports' rollups need is gathered in `writes`, for the caller to write (writeRollups).
 */
export async function evaluateMember(
  q: Queryable,
  s: CommunitySettings,
  m: MemberInput,
  emit: EmitCommunity,
  writes: RollupWrites,
): Promise<Date | null> {
  const facts = await loadProfileFacts(q, m.workspaceId, m.profileId, m.now, s.score.halfLifeMs)
  if (!facts) return null
  const score = await updateScore(q, s, m, await loadScore(q, m.workspaceId, m.profileId), emit, writes)
  const history = await historyOf(q, s, m)
  const before = await loadStageState(q, m.workspaceId, m.profileId)
  const profile = {
    ...facts,
    traits: m.traits ?? facts.traits,
    score: scoreAt(score, m.now, s.score.halfLifeMs),
    stage: before?.stage ?? null,
  }
  const ctx: ConditionContext = { now: m.now, profile, event: m.event, history, stages: s.stages.ids }
  const out = progress(s.stages, before, ctx)
  await applyStageOutcome(q, m.workspaceId, m.profileId, before, out, emit, writes, {
    reconfigured: m.reconfigured === true,
    inRecheckTimer: m.inRecheckTimer === true,
  })
  const after = { ...ctx, profile: { ...profile, stage: out.state?.stage ?? null } }
  await awardBadges(q, s.badges, after, m, emit)
  return out.recheckAt
}
