// Configuration changes reach every member in the background: a job per change, worked
// through by the workers' scheduler one page of profiles per firing of its timer, so the
// admin API answers at once and no transaction spans a million members. The page's work
// and the job's cursor commit together: a crash resumes at the next page, and a page is
// never done twice. Progress is the job row (GET /api/v1/community/jobs).
import { backfill } from '../../domain/community/badge-backfill.ts'
import type { BadgeRule } from '../../domain/community/badge-rules.ts'
import { recordAwards } from '../../domain/community/badges.ts'
import { memoryHistory } from '../../domain/conditions/history.ts'
import type { Logger } from '../../log.ts'
import { loadBadges, loadStageHistory, rerankScores, saveBadge } from '../../store/community.ts'
import {
  type CommunityJob,
  type CommunityJobKind,
  createCommunityJob,
  lockCommunityJob,
  lockProfilePage,
  lockProfiles,
  recordJobPage,
} from '../../store/community-jobs.ts'
import { newRollupWrites, writeRollups } from '../../store/community-rollups.ts'
import type { Queryable, Tx } from '../../store/db.ts'
import { loadEventFacts, loadProfileFacts } from '../../store/profile-facts.ts'
import { scheduleTimers } from '../../store/timers.ts'
import type { TimerHandler } from '../scheduler.ts'
import { actionEmitter } from './emit.ts'
import { evaluateMember, scheduleDecay } from './member.ts'
import { absorbMember } from './merge.ts'
import { type CommunitySettings, loadSettings } from './settings.ts'

export const JOB_TIMER = 'community.job'
/** Job timers belong to no profile: they live under this id. */
export const NO_PROFILE = '00000000-0000-0000-0000-000000000000'
export const jobTimerId = (id: number) => `community:job:${id}`
/** Profiles per firing: one transaction of a few seconds at most. */
export const JOB_PAGE = 200

/** Creates the job and its timer, due now. */
export async function startCommunityJob(
  q: Queryable,
  ws: string,
  kind: CommunityJobKind,
  opts: { readonly rules?: readonly string[]; readonly by: string | null; readonly now: Date },
): Promise<CommunityJob> {
  const job = await createCommunityJob(q, ws, kind, opts)
  await scheduleTimers(q, [
    {
      workspaceId: ws,
      profileId: NO_PROFILE,
      timerId: jobTimerId(job.id),
      kind: JOB_TIMER,
      fireAt: opts.now,
      payload: { job: job.id },
    },
  ])
  return job
}

interface PageResult {
  failed: number
  lastError: string | null
  awards: number
}

/** Runs `fn` under a savepoint: a member that fails is rolled back alone and counted. */
async function eachMember(
  tx: Tx,
  ids: readonly string[],
  log: Logger,
  job: CommunityJob,
  fn: (profileId: string) => Promise<number>,
): Promise<PageResult> {
  const out: PageResult = { failed: 0, lastError: null, awards: 0 }
  for (const profileId of ids) {
    await tx.exec('SAVEPOINT community_member')
    try {
      out.awards += await fn(profileId)
      await tx.exec('RELEASE SAVEPOINT community_member')
    } catch (err) {
      await tx.exec('ROLLBACK TO SAVEPOINT community_member')
      out.failed++
      out.lastError = `${profileId}: ${err instanceof Error ? err.message : String(err)}`
      log.error({ err, job: job.id, kind: job.kind, profileId }, 'community job: member failed')
    }
  }
  return out
}

/** A new funnel: each member evaluated against it, history kept, timers set again. */
async function stagesPage(
  tx: Tx,
  s: CommunitySettings,
  job: CommunityJob,
  ids: string[],
  now: Date,
  log: Logger,
) {
  const writes = newRollupWrites()
  const r = await eachMember(tx, ids, log, job, async (profileId) => {
    await evaluateMember(
      tx,
      s,
      { workspaceId: job.workspaceId, profileId, now, event: null, reconfigured: true },
      actionEmitter(tx, job.workspaceId, profileId, `job:${job.id}`),
      writes,
    )
    return 0
  })
  await writeRollups(tx, writes)
  return r
}

/** A new score table: rank keys with the new half-life, decay timers for the new thresholds. */
async function scorePage(
  tx: Tx,
  s: CommunitySettings,
  job: CommunityJob,
  ids: string[],
): Promise<PageResult> {
  const scores = await rerankScores(tx, job.workspaceId, ids, s.score.halfLifeMs)
  for (const { profileId, score } of scores) await scheduleDecay(tx, s, job.workspaceId, profileId, score)
  return { failed: 0, lastError: null, awards: 0 }
}

/**
 * Profiles merged away before their community state followed them (migration 021): each
 * is absorbed by its survivor as a merge does now, and the survivor evaluated again.
 */
async function mergesPage(
  tx: Tx,
  s: CommunitySettings,
  job: CommunityJob,
  page: ReadonlyArray<{ profileId: string; mergedInto: string | null }>,
  now: Date,
  log: Logger,
) {
  const ws = job.workspaceId
  const writes = newRollupWrites()
  const into = new Map(page.map((p) => [p.profileId, p.mergedInto]))
  await lockProfiles(tx, ws, [...new Set(page.flatMap((p) => (p.mergedInto ? [p.mergedInto] : [])))])
  const r = await eachMember(
    tx,
    page.map((p) => p.profileId),
    log,
    job,
    async (source) => {
      const target = into.get(source)
      if (!target) return 0
      await absorbMember(tx, s, ws, source, target, now, writes)
      await evaluateMember(
        tx,
        s,
        { workspaceId: ws, profileId: target, now, event: null, reconfigured: true },
        actionEmitter(tx, ws, target, `job:${job.id}`),
        writes,
      )
      return 0
    },
  )
  await writeRollups(tx, writes)
  return r
}

/** New badge rules: each member's past replayed; the awards carry the time they were earned. */
async function badgesPage(
  tx: Tx,
  s: CommunitySettings,
  job: CommunityJob,
  ids: string[],
  now: Date,
  log: Logger,
) {
  const wanted = new Set(job.rules ?? [])
  const rules = s.badges.filter((r) => wanted.has(r.id))
  if (rules.length === 0) return null
  const names = new Set<string>(s.score.points.keys())
  for (const r of rules) if (r.when.type === 'event' || r.when.type === 'count') names.add(r.when.event)
  return eachMember(tx, ids, log, job, (profileId) =>
    backfillMember(tx, s, job, profileId, rules, [...names], now),
  )
}

async function backfillMember(
  q: Queryable,
  s: CommunitySettings,
  job: CommunityJob,
  profileId: string,
  rules: readonly BadgeRule[],
  names: readonly string[],
  now: Date,
): Promise<number> {
  const ws = job.workspaceId
  const facts = await loadProfileFacts(q, ws, profileId, now, s.score.halfLifeMs)
  if (!facts) return 0
  const events = await loadEventFacts(q, ws, profileId, names)
  const stageHistory = await loadStageHistory(q, ws, profileId)
  const held = await loadBadges(q, ws, profileId)
  const ctx = { now, profile: facts, event: null, history: memoryHistory(events), stages: s.stages.ids }
  const emit = actionEmitter(q, ws, profileId, `job:${job.id}`)
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

export function makeJobTimer(log: Logger): TimerHandler {
  return async (tx, timer, now) => {
    const id = Number((timer.payload as { job?: unknown }).job)
    const job = Number.isSafeInteger(id) ? await lockCommunityJob(tx, timer.workspaceId, id) : null
    if (job?.status !== 'running') return
    const s = await loadSettings(tx, job.workspaceId)
    // The page is locked: a processing round touching these members waits for it.
    const page = await lockProfilePage(tx, job.workspaceId, job.afterProfile, JOB_PAGE, {
      merged: job.kind === 'merges',
    })
    const ids = page.map((p) => p.profileId)
    let result: PageResult | null
    switch (job.kind) {
      case 'stages':
        result = await stagesPage(tx, s, job, ids, now, log)
        break
      case 'score':
        result = await scorePage(tx, s, job, ids)
        break
      case 'badges':
        result = await badgesPage(tx, s, job, ids, now, log)
        break
      case 'merges':
        result = await mergesPage(tx, s, job, page, now, log)
        break
      default: {
        const never: never = job.kind
        throw new Error(`unknown community job kind ${String(never)}`)
      }
    }
    const last = ids.length < JOB_PAGE
    await recordJobPage(tx, job, {
      after: ids.at(-1) ?? null,
      done: result ? ids.length : 0,
      failed: result?.failed ?? 0,
      lastError: result?.lastError ?? null,
      awards: result?.awards ?? 0,
      // Every rule it was to backfill has been removed since: nothing left to do.
      status: result === null ? 'superseded' : last ? 'done' : 'running',
      now,
    })
    // The timer fires again at once for the next page; the last page deletes it.
    return result === null || last ? undefined : { postponeTo: now }
  }
}
