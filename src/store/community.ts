// SQL for the community model: stage state and history, scores, badges held, and the
// community reports. Every report is one set-based statement; "now" is a parameter.
import type { HeldBadge } from '../domain/community/badges.ts'
import type { ScoreState } from '../domain/community/score.ts'
import type { StageOutcome, StageState } from '../domain/community/stage-progress.ts'
import type { RollupWrites } from './community-rollups.ts'
import type { Queryable } from './db.ts'
import { loadProfileRecords } from './profile-facts.ts'
import { roundCacheOf } from './round-cache.ts'

const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null)
const date = (v: unknown) => (v === null || v === undefined ? null : new Date(v as string | Date))

/**
 * Stores the outcome of progress()/moveStage(): the current stage and each transition. The
 * transitions also go to `writes`, for the reports' rollups (written by writeRollups).
 */
export async function saveStageOutcome(
  q: Queryable,
  ws: string,
  profileId: string,
  out: StageOutcome,
  writes: RollupWrites,
): Promise<void> {
  if (out.transitions.length) {
    for (const t of out.transitions)
      writes.transitions.push({
        workspaceId: ws,
        profileId,
        stage: t.properties.stage,
        previousStage: t.properties.previous_stage,
        direction: t.properties.direction,
        at: t.timestamp,
        timeInPreviousMs: t.properties.time_in_previous_stage_ms,
      })
    const rows = out.transitions.map((t, n) => ({
      n,
      s: t.properties.stage,
      p: t.properties.previous_stage,
      d: t.properties.direction,
      e: t.timestamp.toISOString(),
      m: t.properties.time_in_previous_stage_ms,
      b: t.properties.by ?? null,
    }))
    await q.query(
      `INSERT INTO profile_stage_history (workspace_id, profile_id, stage, previous_stage, direction, entered_at, time_in_previous_ms, moved_by)
       SELECT $1, $2, x.s, x.p, x.d, x.e, x.m, x.b
       FROM jsonb_to_recordset($3::jsonb) AS x(n int, s text, p text, d text, e timestamptz, m bigint, b text)
       ORDER BY x.n`,
      [ws, profileId, JSON.stringify(rows)],
    )
  }
  const s = out.state
  roundCacheOf(q)?.patchRecord(ws, profileId, { stage: s })
  if (!s) {
    await q.query('DELETE FROM profile_stages WHERE workspace_id = $1 AND profile_id = $2', [ws, profileId])
    return
  }
  await q.query(
    `INSERT INTO profile_stages (workspace_id, profile_id, stage, entered_at, demotion_pending_since, stuck_notified_at)
     VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (workspace_id, profile_id) DO UPDATE SET stage = EXCLUDED.stage, entered_at = EXCLUDED.entered_at,
       demotion_pending_since = EXCLUDED.demotion_pending_since, stuck_notified_at = EXCLUDED.stuck_notified_at`,
    [ws, profileId, s.stage, iso(s.enteredAt), iso(s.demotionPendingSince), iso(s.stuckNotifiedAt)],
  )
}

export async function loadStageState(
  q: Queryable,
  ws: string,
  profileId: string,
): Promise<StageState | null> {
  const round = roundCacheOf(q)
  if (round)
    return (await round.record(ws, profileId, (ids) => loadProfileRecords(q, ws, ids)))?.stage ?? null
  const [r] = await q.query(
    'SELECT stage, entered_at, demotion_pending_since, stuck_notified_at FROM profile_stages WHERE workspace_id = $1 AND profile_id = $2',
    [ws, profileId],
  )
  if (!r) return null
  return {
    stage: r['stage'] as string,
    enteredAt: date(r['entered_at'])!,
    demotionPendingSince: date(r['demotion_pending_since']),
    stuckNotifiedAt: date(r['stuck_notified_at']),
  }
}

/** Stores a score with its rank key: log2(value) + at / half-life orders decayed scores at any time. */
export async function saveScore(
  q: Queryable,
  ws: string,
  profileId: string,
  s: ScoreState,
  halfLifeMs: number,
): Promise<void> {
  roundCacheOf(q)?.patchRecord(ws, profileId, { score: s })
  await q.query(
    `INSERT INTO profile_scores (workspace_id, profile_id, value, at, rank_key)
     VALUES ($1, $2, $3::double precision, $4::timestamptz,
       CASE WHEN $3::double precision > 0
         THEN ln($3::double precision) / ln(2) + extract(epoch FROM $4::timestamptz)::double precision * 1000 / $5::double precision END)
     ON CONFLICT (workspace_id, profile_id) DO UPDATE SET value = EXCLUDED.value, at = EXCLUDED.at, rank_key = EXCLUDED.rank_key`,
    [ws, profileId, s.value, iso(s.at), halfLifeMs],
  )
}

export async function loadScore(q: Queryable, ws: string, profileId: string): Promise<ScoreState | null> {
  const round = roundCacheOf(q)
  if (round)
    return (await round.record(ws, profileId, (ids) => loadProfileRecords(q, ws, ids)))?.score ?? null
  const [r] = await q.query(
    'SELECT value, at FROM profile_scores WHERE workspace_id = $1 AND profile_id = $2',
    [ws, profileId],
  )
  return r ? { value: Number(r['value']), at: date(r['at'])! } : null
}

export async function saveBadge(
  q: Queryable,
  ws: string,
  profileId: string,
  h: HeldBadge,
  revokedBy: string | null = null,
): Promise<void> {
  const round = roundCacheOf(q)
  if (round) {
    const held = (await round.record(ws, profileId, (ids) => loadProfileRecords(q, ws, ids)))?.badges
    if (held) round.patchRecord(ws, profileId, { badges: new Map(held).set(h.badge, h) })
  }
  await q.query(
    `INSERT INTO profile_badges (workspace_id, profile_id, badge, count, first_awarded_at, last_awarded_at, revoked_at, revoked_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (workspace_id, profile_id, badge) DO UPDATE SET count = EXCLUDED.count,
       first_awarded_at = EXCLUDED.first_awarded_at, last_awarded_at = EXCLUDED.last_awarded_at,
       revoked_at = EXCLUDED.revoked_at, revoked_by = EXCLUDED.revoked_by`,
    [
      ws,
      profileId,
      h.badge,
      h.count,
      iso(h.firstAwardedAt),
      iso(h.lastAwardedAt),
      iso(h.revokedAt),
      revokedBy,
    ],
  )
}

export async function loadBadges(
  q: Queryable,
  ws: string,
  profileId: string,
): Promise<Map<string, HeldBadge>> {
  const round = roundCacheOf(q)
  if (round) {
    const record = await round.record(ws, profileId, (ids) => loadProfileRecords(q, ws, ids))
    return new Map(record?.badges ?? [])
  }
  const rows = await q.query(
    'SELECT badge, count, first_awarded_at, last_awarded_at, revoked_at FROM profile_badges WHERE workspace_id = $1 AND profile_id = $2',
    [ws, profileId],
  )
  return new Map(
    rows.map((r) => [
      r['badge'] as string,
      {
        badge: r['badge'] as string,
        count: Number(r['count']),
        firstAwardedAt: date(r['first_awarded_at'])!,
        lastAwardedAt: date(r['last_awarded_at'])!,
        revokedAt: date(r['revoked_at']),
      },
    ]),
  )
}

/** A member's stage entries, oldest first (badge backfill for stage rules). */
export async function loadStageHistory(
  q: Queryable,
  ws: string,
  profileId: string,
): Promise<Array<{ stage: string; at: Date }>> {
  const rows = await q.query(
    'SELECT stage, entered_at FROM profile_stage_history WHERE workspace_id = $1 AND profile_id = $2 ORDER BY seq',
    [ws, profileId],
  )
  return rows.map((r) => ({ stage: r['stage'] as string, at: date(r['entered_at'])! }))
}

/** What the profile read shows of the community model. */
export async function loadCommunityView(q: Queryable, ws: string, profileId: string) {
  const [stage, score, badges] = await Promise.all([
    loadStageState(q, ws, profileId),
    loadScore(q, ws, profileId),
    loadBadges(q, ws, profileId),
  ])
  return { stage, score, badges: [...badges.values()].filter((b) => !b.revokedAt) }
}

/** Re-ranks the scores of some members after a half-life change (the rank key divides by it). */
export async function rerankScores(
  q: Queryable,
  ws: string,
  profileIds: readonly string[],
  halfLifeMs: number,
): Promise<Array<{ profileId: string; score: ScoreState }>> {
  const rows = await q.query<{ profile_id: string; value: number; at: Date }>(
    `UPDATE profile_scores SET rank_key = CASE WHEN value > 0
       THEN ln(value) / ln(2) + extract(epoch FROM at)::double precision * 1000 / $3::double precision END
     WHERE workspace_id = $1 AND profile_id = ANY($2::uuid[])
     RETURNING profile_id, value, at`,
    [ws, profileIds, halfLifeMs],
  )
  return rows.map((r) => ({ profileId: r.profile_id, score: { value: Number(r.value), at: new Date(r.at) } }))
}
