// Segments: their definitions, their members, and the timers that keep members true
// (a recheck per profile and segment, a backfill per segment). Set-based: members are
// inserted and deleted in batches.
import { createHash } from 'node:crypto'
import type { Segment } from '../domain/segments/types.ts'
import type { Queryable } from './db.ts'
import { PROFILE_COLUMNS, type ProfileRow, type ProfileSummary, summary } from './profiles/read.ts'
import { roundCacheOf } from './round-cache.ts'
import { scheduleTimers } from './timers.ts'
import { roundWorkspaceConfig } from './workspace-config.ts'

/** Re-evaluates one segment for one profile when time alone may change the answer. */
export const SEGMENT_RECHECK_TIMER = 'segment_recheck'
/** Computes a segment's members over existing profiles, one page of profiles per firing. */
export const SEGMENT_BACKFILL_TIMER = 'segment_backfill'
/** Backfill timers belong to no profile: they live under this id. */
export const NO_PROFILE = '00000000-0000-0000-0000-000000000000'

export const recheckTimerId = (segmentId: string) => `segment:${segmentId}`
export const backfillTimerId = (segmentId: string, after: string | null) =>
  `segment-backfill:${segmentId}:${after ?? ''}`

export interface BackfillPayload {
  readonly segment: string
  /** The condition being backfilled (conditionVersion); a changed one supersedes this backfill. */
  readonly version: string
  /** The last profile id done; null to start. */
  readonly after: string | null
}

/** Identifies a segment's condition: a rename keeps it, so it does not restart a backfill. */
export function conditionVersion(segment: Segment): string {
  return createHash('sha256').update(canonicalJson(segment.condition)).digest('hex').slice(0, 16)
}

/** JSON with object keys sorted: jsonb gives keys back in its own order. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  )
}

export interface StoredSegment {
  readonly segment: Segment
  readonly updatedAt: Date
}

export interface SegmentSummary extends StoredSegment {
  readonly members: number
  /** A backfill is still computing members. */
  readonly backfilling: boolean
}

export interface Membership {
  readonly profileId: string
  readonly segmentId: string
}

interface SegmentRow {
  definition: Segment
  updated_at: Date
  members?: number
  backfilling?: boolean
}

const stored = (r: SegmentRow): StoredSegment => ({ segment: r.definition, updatedAt: r.updated_at })

/** Every segment of a workspace, by id. */
export async function listSegments(db: Queryable, workspaceId: string): Promise<StoredSegment[]> {
  const inRound = roundWorkspaceConfig(db, workspaceId)
  if (inRound) return [...(await inRound).segments]
  const rows = await db.query<SegmentRow>(
    'SELECT definition, updated_at FROM segments WHERE workspace_id = $1 ORDER BY segment_id',
    [workspaceId],
  )
  return rows.map(stored)
}

const SUMMARY_COLUMNS = `s.definition, s.updated_at,
  (SELECT count(*)::int FROM segment_members m
    WHERE m.workspace_id = s.workspace_id AND m.segment_id = s.segment_id) AS members,
  EXISTS (SELECT 1 FROM timers t
    WHERE t.workspace_id = s.workspace_id AND t.profile_id = '${NO_PROFILE}'
      AND t.kind = '${SEGMENT_BACKFILL_TIMER}' AND t.payload ->> 'segment' = s.segment_id) AS backfilling`

const summaryOf = (r: SegmentRow): SegmentSummary => ({
  ...stored(r),
  members: r.members ?? 0,
  backfilling: r.backfilling ?? false,
})

/** Segments with their member counts. */
export async function listSegmentSummaries(db: Queryable, workspaceId: string): Promise<SegmentSummary[]> {
  const rows = await db.query<SegmentRow>(
    `SELECT ${SUMMARY_COLUMNS} FROM segments s WHERE s.workspace_id = $1 ORDER BY s.segment_id`,
    [workspaceId],
  )
  return rows.map(summaryOf)
}

export async function getSegment(
  db: Queryable,
  workspaceId: string,
  segmentId: string,
): Promise<SegmentSummary | undefined> {
  const rows = await db.query<SegmentRow>(
    `SELECT ${SUMMARY_COLUMNS} FROM segments s WHERE s.workspace_id = $1 AND s.segment_id = $2`,
    [workspaceId, segmentId],
  )
  return rows[0] ? summaryOf(rows[0]) : undefined
}

/**
 * Creates or replaces a segment. When it is new or its condition changed, a backfill
 * (worker side) recomputes its members; a superseded backfill stops at its next page.
 */
export async function saveSegment(
  db: Queryable,
  workspaceId: string,
  segment: Segment,
  now: Date,
): Promise<{ readonly created: boolean; readonly backfill: boolean }> {
  const before = await db.query<{ definition: Segment }>(
    'SELECT definition FROM segments WHERE workspace_id = $1 AND segment_id = $2 FOR UPDATE',
    [workspaceId, segment.id],
  )
  const previous = before[0]?.definition
  await db.query(
    `INSERT INTO segments (workspace_id, segment_id, name, definition, updated_at) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (workspace_id, segment_id) DO UPDATE
       SET name = EXCLUDED.name, definition = EXCLUDED.definition, updated_at = EXCLUDED.updated_at`,
    [workspaceId, segment.id, segment.name, JSON.stringify(segment), now.toISOString()],
  )
  const backfill = !previous || conditionVersion(previous) !== conditionVersion(segment)
  if (backfill) {
    await cancelBackfills(db, workspaceId, segment.id)
    const payload: BackfillPayload = { segment: segment.id, version: conditionVersion(segment), after: null }
    await scheduleTimers(db, [
      {
        workspaceId,
        profileId: NO_PROFILE,
        timerId: backfillTimerId(segment.id, null),
        kind: SEGMENT_BACKFILL_TIMER,
        fireAt: now,
        payload: { ...payload },
      },
    ])
  }
  return { created: !previous, backfill }
}

async function cancelBackfills(db: Queryable, workspaceId: string, segmentId: string): Promise<void> {
  await db.query(
    `DELETE FROM timers WHERE workspace_id = $1 AND profile_id = $2 AND kind = $3 AND payload ->> 'segment' = $4`,
    [workspaceId, NO_PROFILE, SEGMENT_BACKFILL_TIMER, segmentId],
  )
}

/** Deletes a segment with its members and timers; false when there was none. */
export async function deleteSegment(db: Queryable, workspaceId: string, segmentId: string): Promise<boolean> {
  const rows = await db.query(
    'DELETE FROM segments WHERE workspace_id = $1 AND segment_id = $2 RETURNING 1',
    [workspaceId, segmentId],
  )
  if (rows.length === 0) return false
  await db.query('DELETE FROM segment_members WHERE workspace_id = $1 AND segment_id = $2', [
    workspaceId,
    segmentId,
  ])
  await db.query('DELETE FROM timers WHERE workspace_id = $1 AND timer_id = $2 AND kind = $3', [
    workspaceId,
    recheckTimerId(segmentId),
    SEGMENT_RECHECK_TIMER,
  ])
  await cancelBackfills(db, workspaceId, segmentId)
  return true
}

const membershipRows = (rows: readonly Membership[]) =>
  JSON.stringify(rows.map((r) => ({ p: r.profileId, s: r.segmentId })))

/** Adds members (already members are left as they are, entry time included). */
export async function insertMembers(
  db: Queryable,
  workspaceId: string,
  rows: readonly Membership[],
  at: Date,
): Promise<void> {
  if (rows.length === 0) return
  forgetMembers(
    db,
    workspaceId,
    rows.map((r) => r.profileId),
  )
  await db.query(
    `INSERT INTO segment_members (workspace_id, profile_id, segment_id, entered_at)
     SELECT $1, x.p, x.s, $3 FROM jsonb_to_recordset($2::jsonb) AS x(p uuid, s text)
     ON CONFLICT DO NOTHING`,
    [workspaceId, membershipRows(rows), at.toISOString()],
  )
}

export async function deleteMembers(
  db: Queryable,
  workspaceId: string,
  rows: readonly Membership[],
): Promise<void> {
  if (rows.length === 0) return
  forgetMembers(
    db,
    workspaceId,
    rows.map((r) => r.profileId),
  )
  // The ANY on profile_id keeps this an index scan however many members the table holds.
  await db.query(
    `DELETE FROM segment_members m
     WHERE m.workspace_id = $1 AND m.profile_id = ANY($2::uuid[])
       AND (m.profile_id, m.segment_id) IN (SELECT * FROM unnest($2::uuid[], $3::text[]))`,
    [workspaceId, rows.map((r) => r.profileId), rows.map((r) => r.segmentId)],
  )
}

/**
 * Forgets the memberships and recheck timers of profiles merged into another: their
 * state now lives in the survivor, whose segments are evaluated afresh.
 */
export async function dropProfileMemberships(
  db: Queryable,
  workspaceId: string,
  profileIds: readonly string[],
): Promise<void> {
  if (profileIds.length === 0) return
  forgetMembers(db, workspaceId, profileIds)
  await db.query('DELETE FROM segment_members WHERE workspace_id = $1 AND profile_id = ANY($2::uuid[])', [
    workspaceId,
    profileIds,
  ])
  await db.query(
    'DELETE FROM timers WHERE workspace_id = $1 AND profile_id = ANY($2::uuid[]) AND kind = $3',
    [workspaceId, profileIds, SEGMENT_RECHECK_TIMER],
  )
}

/** The segments each of `profileIds` belongs to. */
export async function membershipsOf(
  db: Queryable,
  workspaceId: string,
  profileIds: readonly string[],
): Promise<Map<string, Set<string>>> {
  const out = new Map<string, Set<string>>(profileIds.map((p) => [p, new Set<string>()]))
  if (profileIds.length === 0) return out
  const rows = await db.query<{ profile_id: string; segment_id: string }>(
    'SELECT profile_id, segment_id FROM segment_members WHERE workspace_id = $1 AND profile_id = ANY($2::uuid[])',
    [workspaceId, profileIds],
  )
  for (const r of rows) out.get(r.profile_id)?.add(r.segment_id)
  return out
}

/** The next page of live profile ids after `after`, for backfills. */
export async function profileIdsAfter(
  db: Queryable,
  workspaceId: string,
  after: string | null,
  limit: number,
): Promise<string[]> {
  const rows = await db.query<{ profile_id: string }>(
    `SELECT profile_id FROM profiles
     WHERE workspace_id = $1 AND merged_into IS NULL AND ($2::uuid IS NULL OR profile_id > $2::uuid)
     ORDER BY profile_id LIMIT $3`,
    [workspaceId, after, limit],
  )
  return rows.map((r) => r.profile_id)
}

/** Sets recheck timers, one per profile and segment (a new time replaces the old one). */
export async function scheduleRechecks(
  db: Queryable,
  workspaceId: string,
  due: readonly (Membership & { readonly at: Date })[],
): Promise<void> {
  await scheduleTimers(
    db,
    due.map((d) => ({
      workspaceId,
      profileId: d.profileId,
      timerId: recheckTimerId(d.segmentId),
      kind: SEGMENT_RECHECK_TIMER,
      fireAt: d.at,
      payload: { segment: d.segmentId },
    })),
  )
}

export interface MemberKey {
  readonly enteredAt: string
  readonly id: string
}

export interface SegmentMember extends ProfileSummary {
  readonly enteredAt: Date
}

/** Members, latest entries first, a page at a time (keyset on entry time, profile id). */
export async function listMembers(
  db: Queryable,
  workspaceId: string,
  segmentId: string,
  page: { readonly limit: number; readonly after?: MemberKey | undefined },
): Promise<{ items: SegmentMember[]; next: MemberKey | undefined }> {
  const rows = await db.query<ProfileRow & { entered_at: Date; entered_key: string }>(
    `SELECT ${PROFILE_COLUMNS}, entered_at, entered_at::text AS entered_key FROM (
       SELECT p.*, m.entered_at FROM segment_members m
       JOIN profiles p ON p.workspace_id = m.workspace_id AND p.profile_id = m.profile_id
       WHERE m.workspace_id = $1 AND m.segment_id = $2
         AND ($3::timestamptz IS NULL OR (m.entered_at, m.profile_id) < ($3::timestamptz, $4::uuid))
       ORDER BY m.entered_at DESC, m.profile_id DESC
       LIMIT $5
     ) x ORDER BY entered_at DESC, profile_id DESC`,
    [workspaceId, segmentId, page.after?.enteredAt ?? null, page.after?.id ?? null, page.limit + 1],
  )
  const items = rows.slice(0, page.limit)
  const last = items.at(-1)
  return {
    items: items.map((r) => ({ ...summary(r), enteredAt: r.entered_at })),
    next: rows.length > page.limit && last ? { enteredAt: last.entered_key, id: last.profile_id } : undefined,
  }
}

/** Memberships are part of the round's profile records: the next read takes them anew. */
function forgetMembers(db: Queryable, workspaceId: string, profileIds: readonly string[]): void {
  const round = roundCacheOf(db)
  if (round) for (const id of profileIds) round.forget(workspaceId, id)
}
