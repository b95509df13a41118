// Changing a workspace's community configuration, and the moves a person makes by hand.
// A configuration is validated whole before anything is written; accepted, it is stored
// and a background job (./jobs.ts) re-evaluates members (stages), re-ranks scores (score
// table) or backfills new badges (badge rules).
import { type BadgeRule, validateBadgeRules } from '../../domain/community/badge-rules.ts'
import { revokeBadge } from '../../domain/community/badges.ts'
import { type ScoreConfig, validateScoreConfig } from '../../domain/community/score-config.ts'
import type { ValidationResult } from '../../domain/community/stage-config.ts'
import { type StageConfig, validateStageConfig } from '../../domain/community/stage-config.ts'
import { moveStage } from '../../domain/community/stage-progress.ts'
import type { ErrorIssue } from '../../domain/errors.ts'
import { loadBadges, loadStageState, saveBadge } from '../../store/community.ts'
import type { CommunityJob } from '../../store/community-jobs.ts'
import { newRollupWrites, writeRollups } from '../../store/community-rollups.ts'
import { saveCommunityPart } from '../../store/community-settings.ts'
import type { Queryable } from '../../store/db.ts'
import { actionEmitter } from './emit.ts'
import { startCommunityJob } from './jobs.ts'
import { applyStageOutcome } from './member.ts'
import { loadSettings } from './settings.ts'

type Change<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly issues: readonly ErrorIssue[] }

/** Badge rules must keep naming stages that exist. */
function badgeIssues(rules: readonly BadgeRule[], stages: readonly string[]): ErrorIssue[] {
  const r = validateBadgeRules(rules, { stages })
  return r.ok ? [] : [...r.issues].map((i) => ({ path: `badges${i.path}`, message: i.message }))
}

/**
 * Replaces the funnel. Members keep their history; a background job re-evaluates each of
 * them against the new funnel (runtime/community/jobs.ts), so the change reaches everyone
 * without one long transaction. Returns the job and how many members it will evaluate.
 */
export async function setStageConfig(
  q: Queryable,
  ws: string,
  input: unknown,
  now: Date,
  by: string,
): Promise<Change<{ config: StageConfig; members: number; job: CommunityJob }>> {
  const v = validateStageConfig(input)
  if (!v.ok) return v
  const current = await loadSettings(q, ws)
  const issues = badgeIssues(current.badges, v.value.ids)
  if (issues.length) return { ok: false, issues }
  const config: StageConfig = { stages: v.value.stages }
  await saveCommunityPart(q, ws, 'stages', config, now, by)
  const job = await startCommunityJob(q, ws, 'stages', { by, now })
  return { ok: true, value: { config, members: job.membersTotal, job } }
}

/** Replaces the score table; a background job re-ranks stored scores and moves decay timers. */
export async function setScoreConfig(
  q: Queryable,
  ws: string,
  input: unknown,
  now: Date,
  by: string,
): Promise<Change<{ config: ScoreConfig; job: CommunityJob }>> {
  const v = validateScoreConfig(input)
  if (!v.ok) return v
  const config = input as ScoreConfig
  await saveCommunityPart(q, ws, 'score', config, now, by)
  const job = await startCommunityJob(q, ws, 'score', { by, now })
  return { ok: true, value: { config, job } }
}

/**
 * Replaces the badge rules; rules whose id is new are backfilled over every member's past
 * by a background job (`Badge Awarded` with `backfilled: true`, at the time each was
 * earned). Returns the job, or null when no rule is new.
 */
export async function setBadgeRules(
  q: Queryable,
  ws: string,
  input: unknown,
  now: Date,
  by: string,
): Promise<Change<{ config: readonly BadgeRule[]; job: CommunityJob | null }>> {
  const current = await loadSettings(q, ws)
  const v: ValidationResult<readonly BadgeRule[]> = validateBadgeRules(input, { stages: current.stages.ids })
  if (!v.ok) return v
  await saveCommunityPart(q, ws, 'badges', v.value, now, by)
  const known = new Set(current.badges.map((r) => r.id))
  const added = v.value.filter((r) => !known.has(r.id)).map((r) => r.id)
  const job = added.length ? await startCommunityJob(q, ws, 'badges', { rules: added, by, now }) : null
  return { ok: true, value: { config: v.value, job } }
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
