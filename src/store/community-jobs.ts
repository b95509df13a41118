// SQL for community jobs (migration 021): a configuration change worked through every
// member in the background, a page of profiles per step, with its progress.
import type { Queryable } from './db.ts'

export type CommunityJobKind = 'stages' | 'score' | 'badges' | 'merges'
/** running -> done | superseded (see migration 021). */
export type CommunityJobStatus = 'running' | 'done' | 'superseded'

export interface CommunityJob {
  readonly workspaceId: string
  readonly id: number
  readonly kind: CommunityJobKind
  readonly status: CommunityJobStatus
  readonly rules: readonly string[] | null
  readonly afterProfile: string | null
  readonly membersTotal: number
  readonly membersDone: number
  readonly membersFailed: number
  readonly lastError: string | null
  readonly awards: number
  readonly createdBy: string | null
  readonly createdAt: Date
  readonly updatedAt: Date
  readonly finishedAt: Date | null
}

const COLUMNS = `workspace_id, job_id, kind, status, rules, after_profile, members_total, members_done,
  members_failed, last_error, awards, created_by, created_at, updated_at, finished_at`

function toJob(r: Record<string, unknown>): CommunityJob {
  const date = (v: unknown) => (v === null || v === undefined ? null : new Date(v as string))
  return {
    workspaceId: r['workspace_id'] as string,
    id: Number(r['job_id']),
    kind: r['kind'] as CommunityJobKind,
    status: r['status'] as CommunityJobStatus,
    rules: (r['rules'] as string[] | null) ?? null,
    afterProfile: (r['after_profile'] as string | null) ?? null,
    membersTotal: Number(r['members_total']),
    membersDone: Number(r['members_done']),
    membersFailed: Number(r['members_failed']),
    lastError: (r['last_error'] as string | null) ?? null,
    awards: Number(r['awards']),
    createdBy: (r['created_by'] as string | null) ?? null,
    createdAt: date(r['created_at'])!,
    updatedAt: date(r['updated_at'])!,
    finishedAt: date(r['finished_at']),
  }
}

/**
 * Starts a job over the workspace's profiles (not merged away). A stages or score job
 * supersedes the running ones of its kind: it covers every member again.
 */
export async function createCommunityJob(
  q: Queryable,
  ws: string,
  kind: CommunityJobKind,
  opts: { readonly rules?: readonly string[]; readonly by: string | null; readonly now: Date },
): Promise<CommunityJob> {
  if (kind !== 'badges')
    await q.query(
      `UPDATE community_jobs SET status = 'superseded', updated_at = $3, finished_at = $3
       WHERE workspace_id = $1 AND kind = $2 AND status = 'running'`,
      [ws, kind, opts.now.toISOString()],
    )
  const [r] = await q.query(
    `INSERT INTO community_jobs (workspace_id, kind, status, rules, members_total, created_by, created_at, updated_at)
     SELECT $1, $2, 'running', $3::jsonb, count(*), $4, $5, $5 FROM profiles WHERE workspace_id = $1 AND merged_into IS NULL
     RETURNING ${COLUMNS}`,
    [ws, kind, opts.rules ? JSON.stringify(opts.rules) : null, opts.by, opts.now.toISOString()],
  )
  return toJob(r!)
}

/** The job, locked for its next page (null if unknown). */
export async function lockCommunityJob(q: Queryable, ws: string, id: number): Promise<CommunityJob | null> {
  const [r] = await q.query(
    `SELECT ${COLUMNS} FROM community_jobs WHERE workspace_id = $1 AND job_id = $2 FOR UPDATE`,
    [ws, id],
  )
  return r ? toJob(r) : null
}

/** Records a page done: the cursor, the counts, and whether the job is over. */
export async function recordJobPage(
  q: Queryable,
  job: CommunityJob,
  page: {
    readonly after: string | null
    readonly done: number
    readonly failed: number
    readonly lastError: string | null
    readonly awards: number
    readonly status: CommunityJobStatus
    readonly now: Date
  },
): Promise<void> {
  await q.query(
    `UPDATE community_jobs SET after_profile = coalesce($3::uuid, after_profile), members_done = members_done + $4,
       members_failed = members_failed + $5, last_error = coalesce($6, last_error), awards = awards + $7,
       status = $8, updated_at = $9, finished_at = CASE WHEN $8 = 'running' THEN NULL ELSE $9::timestamptz END
     WHERE workspace_id = $1 AND job_id = $2`,
    [
      job.workspaceId,
      job.id,
      page.after,
      page.done,
      page.failed,
      page.lastError,
      page.awards,
      page.status,
      page.now.toISOString(),
    ],
  )
}

export async function listCommunityJobs(q: Queryable, ws: string, limit = 20): Promise<CommunityJob[]> {
  const rows = await q.query(
    `SELECT ${COLUMNS} FROM community_jobs WHERE workspace_id = $1 ORDER BY job_id DESC LIMIT $2`,
    [ws, limit],
  )
  return rows.map(toJob)
}

export async function getCommunityJob(q: Queryable, ws: string, id: number): Promise<CommunityJob | null> {
  const [r] = await q.query(`SELECT ${COLUMNS} FROM community_jobs WHERE workspace_id = $1 AND job_id = $2`, [
    ws,
    id,
  ])
  return r ? toJob(r) : null
}

/** The page of profiles a job works on: locked, so no processing round changes them meanwhile. */
export async function lockProfilePage(
  q: Queryable,
  ws: string,
  after: string | null,
  limit: number,
  opts: { readonly merged: boolean },
): Promise<Array<{ profileId: string; mergedInto: string | null }>> {
  const rows = await q.query<{ profile_id: string; merged_into: string | null }>(
    `SELECT profile_id, merged_into FROM profiles
     WHERE workspace_id = $1 AND ($2::uuid IS NULL OR profile_id > $2::uuid)
       AND (CASE WHEN $4 THEN merged_into IS NOT NULL ELSE merged_into IS NULL END)
     ORDER BY profile_id LIMIT $3 FOR NO KEY UPDATE`,
    [ws, after, limit, opts.merged],
  )
  return rows.map((r) => ({ profileId: r.profile_id, mergedInto: r.merged_into }))
}

/** Locks profiles (in id order, as the processor does) before a job changes their state. */
export async function lockProfiles(q: Queryable, ws: string, profileIds: readonly string[]): Promise<void> {
  if (profileIds.length === 0) return
  await q.query(
    'SELECT 1 FROM profiles WHERE workspace_id = $1 AND profile_id = ANY($2::uuid[]) ORDER BY profile_id FOR NO KEY UPDATE',
    [ws, profileIds],
  )
}
