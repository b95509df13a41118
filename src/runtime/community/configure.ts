// Changing a workspace's community configuration, and the moves a person makes by hand.
// A configuration is validated whole before anything is written; accepted, it re-evaluates
// members (stages), re-ranks scores (score table) or backfills new badges (badge rules).
import { backfill } from '../../domain/community/badge-backfill.ts'
import { type BadgeRule, validateBadgeRules } from '../../domain/community/badge-rules.ts'
import { recordAwards, revokeBadge } from '../../domain/community/badges.ts'
import { type ScoreConfig, validateScoreConfig } from '../../domain/community/score-config.ts'
import type { ValidationResult } from '../../domain/community/stage-config.ts'
import { type StageConfig, validateStageConfig } from '../../domain/community/stage-config.ts'
import { moveStage } from '../../domain/community/stage-progress.ts'
import { memoryHistory } from '../../domain/conditions/history.ts'
import type { ErrorIssue } from '../../domain/errors.ts'
import {
  loadBadges,
  loadStageHistory,
  loadStageState,
  rerankScores,
  saveBadge,
  scheduleRecheckAll,
} from '../../store/community.ts'
import { newRollupWrites, writeRollups } from '../../store/community-rollups.ts'
import { saveCommunityPart, workspaceProfileIds } from '../../store/community-settings.ts'
import type { Queryable } from '../../store/db.ts'
import { emitProfileEvent } from '../../store/events.ts'
import { loadEventFacts, loadProfileFacts } from '../../store/profile-facts.ts'
import { COMMUNITY_HOOK } from './hook.ts'
import { applyStageOutcome, type EmitCommunity, RECHECK_TIMER, RECHECK_TIMER_ID } from './member.ts'
import { type CommunitySettings, loadSettings } from './settings.ts'

type Change<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly issues: readonly ErrorIssue[] }

/** Emits for an action at `now` (admin API, backfill); `cause` makes the messageId unique. */
function actionEmitter(q: Queryable, ws: string, profileId: string, cause: string): EmitCommunity {
  return async (e, key) => {
    await emitProfileEvent(q, {
      workspaceId: ws,
      profileId,
      messageId: `nudge:${COMMUNITY_HOOK}:${key}:${cause}:${profileId}`,
      event: e.name,
      properties: e.properties,
      at: e.timestamp,
    })
  }
}

/** Badge rules must keep naming stages that exist. */
function badgeIssues(rules: readonly BadgeRule[], stages: readonly string[]): ErrorIssue[] {
  const r = validateBadgeRules(rules, { stages })
  return r.ok ? [] : [...r.issues].map((i) => ({ path: `badges${i.path}`, message: i.message }))
}

/**
 * Replaces the funnel. Members keep their history; each is re-evaluated by a timer due
 * now (set for all in one statement), so the change reaches everyone without one long
 * transaction. Returns how many members will be re-evaluated.
 */
export async function setStageConfig(
  q: Queryable,
  ws: string,
  input: unknown,
  now: Date,
  by: string,
): Promise<Change<{ config: StageConfig; members: number }>> {
  const v = validateStageConfig(input)
  if (!v.ok) return v
  const current = await loadSettings(q, ws)
  const issues = badgeIssues(current.badges, v.value.ids)
  if (issues.length) return { ok: false, issues }
  const config: StageConfig = { stages: v.value.stages }
  await saveCommunityPart(q, ws, 'stages', config, now, by)
  const members = await scheduleRecheckAll(q, ws, {
    timerId: RECHECK_TIMER_ID,
    kind: RECHECK_TIMER,
    fireAt: now,
  })
  return { ok: true, value: { config, members } }
}

export async function setScoreConfig(
  q: Queryable,
  ws: string,
  input: unknown,
  now: Date,
  by: string,
): Promise<Change<{ config: ScoreConfig }>> {
  const v = validateScoreConfig(input)
  if (!v.ok) return v
  const config = input as ScoreConfig
  await saveCommunityPart(q, ws, 'score', config, now, by)
  await rerankScores(q, ws, v.value.halfLifeMs)
  return { ok: true, value: { config } }
}

/**
 * Replaces the badge rules; rules whose id is new are backfilled over every member's past
 * (`Badge Awarded` with `backfilled: true`, at the time each was earned). Returns the
 * number of backfilled awards.
 */
export async function setBadgeRules(
  q: Queryable,
  ws: string,
  input: unknown,
  now: Date,
  by: string,
): Promise<Change<{ config: readonly BadgeRule[]; backfilled: number }>> {
  const current = await loadSettings(q, ws)
  const v: ValidationResult<readonly BadgeRule[]> = validateBadgeRules(input, { stages: current.stages.ids })
  if (!v.ok) return v
  await saveCommunityPart(q, ws, 'badges', v.value, now, by)
  const known = new Set(current.badges.map((r) => r.id))
  const added = v.value.filter((r) => !known.has(r.id))
  const backfilled = added.length ? await backfillAll(q, { ...current, badges: v.value }, ws, added, now) : 0
  return { ok: true, value: { config: v.value, backfilled } }
}

async function backfillAll(
  q: Queryable,
  s: CommunitySettings,
  ws: string,
  rules: readonly BadgeRule[],
  now: Date,
): Promise<number> {
  const names = new Set<string>(s.score.points.keys())
  for (const r of rules) if (r.when.type === 'event' || r.when.type === 'count') names.add(r.when.event)
  let total = 0
  for (let after: string | null = null; ; ) {
    const page: string[] = await workspaceProfileIds(q, ws, after, 500)
    if (page.length === 0) return total
    after = page[page.length - 1] ?? null
    for (const profileId of page) total += await backfillMember(q, s, ws, profileId, rules, [...names], now)
  }
}

async function backfillMember(
  q: Queryable,
  s: CommunitySettings,
  ws: string,
  profileId: string,
  rules: readonly BadgeRule[],
  names: readonly string[],
  now: Date,
): Promise<number> {
  const facts = await loadProfileFacts(q, ws, profileId, now)
  if (!facts) return 0
  const events = await loadEventFacts(q, ws, profileId, names)
  const stageHistory = await loadStageHistory(q, ws, profileId)
  const held = await loadBadges(q, ws, profileId)
  const ctx = { now, profile: facts, event: null, history: memoryHistory(events), stages: s.stages.ids }
  const emit = actionEmitter(q, ws, profileId, 'backfill')
  let n = 0
  for (const rule of rules) {
    const h = held.get(rule.id)
    const awards = backfill(rule, { events, stageHistory, score: s.score, ctx, ...(h ? { held: h } : {}) })
    const next = recordAwards(h, awards)
    if (!next || awards.length === 0) continue
    await saveBadge(q, ws, profileId, next)
    for (const a of awards) await emit(a, `Badge Awarded:${rule.id}:${a.properties.occurrence}`)
    n += awards.length
  }
  return n
}

/** A move by hand, one stage at a time, each transition carrying `by`. */
export async function moveMemberStage(
  q: Queryable,
  ws: string,
  profileId: string,
  target: string,
  now: Date,
  by: string,
): Promise<Change<{ stage: string; transitions: number }>> {
  const s = await loadSettings(q, ws)
  if (!s.stages.index.has(target)) {
    return {
      ok: false,
      issues: [
        { path: 'stage', message: `unknown stage "${target}": use one of ${s.stages.ids.join(', ')}` },
      ],
    }
  }
  const before = await loadStageState(q, ws, profileId)
  const out = moveStage(s.stages, before, target, now, by)
  const writes = newRollupWrites()
  await applyStageOutcome(
    q,
    ws,
    profileId,
    before,
    out,
    actionEmitter(q, ws, profileId, `move:${now.toISOString()}`),
    writes,
  )
  await writeRollups(q, writes)
  return { ok: true, value: { stage: target, transitions: out.transitions.length } }
}

/** Revokes a badge (the rule will not give it back); false when the member does not hold it. */
export async function revokeMemberBadge(
  q: Queryable,
  ws: string,
  profileId: string,
  badge: string,
  now: Date,
  by: string,
  reason: string | null,
): Promise<boolean> {
  const held = (await loadBadges(q, ws, profileId)).get(badge)
  const r = revokeBadge(held, now, by, reason)
  if (!r) return false
  await saveBadge(q, ws, profileId, r.held, by)
  await actionEmitter(q, ws, profileId, `revoke:${now.toISOString()}`)(r.event, `Badge Revoked:${badge}`)
  return true
}
