// Journey runs and their trace. A run's state is the engine's Run as JSON; the columns
// beside it are what queries filter on.
import { type Run, runFromJSON, runToJSON } from '../domain/journeys/run.ts'
import type { TraceEntry } from '../domain/journeys/trace.ts'
import type { Queryable } from './db.ts'

export interface StoredRun {
  readonly run: Run
  readonly journeyId: string
  readonly version: number
}

export async function openRuns(db: Queryable, workspaceId: string, profileId: string): Promise<StoredRun[]> {
  const rows = await db.query<{ state: unknown; journey_id: string; version: number }>(
    `SELECT state, journey_id, version FROM journey_runs
     WHERE workspace_id = $1 AND profile_id = $2 AND ended_at IS NULL
     ORDER BY started_at, run_id`,
    [workspaceId, profileId],
  )
  return rows.map((r) => ({ run: runFromJSON(r.state), journeyId: r.journey_id, version: r.version }))
}

export async function loadRunForUpdate(
  db: Queryable,
  workspaceId: string,
  profileId: string,
  runId: string,
): Promise<StoredRun | undefined> {
  const rows = await db.query<{ state: unknown; journey_id: string; version: number }>(
    `SELECT state, journey_id, version FROM journey_runs
     WHERE workspace_id = $1 AND profile_id = $2 AND run_id = $3 FOR UPDATE`,
    [workspaceId, profileId, runId],
  )
  const r = rows[0]
  return r && { run: runFromJSON(r.state), journeyId: r.journey_id, version: r.version }
}

/** Earlier entries of a profile into a journey (any version), for entry rules. */
export async function pastEntries(
  db: Queryable,
  workspaceId: string,
  profileId: string,
  journeyId: string,
): Promise<Array<{ key: string; enteredAt: Date }>> {
  const rows = await db.query<{ entry_key: string; started_at: Date }>(
    `SELECT entry_key, started_at FROM journey_runs
     WHERE workspace_id = $1 AND profile_id = $2 AND journey_id = $3 ORDER BY started_at`,
    [workspaceId, profileId, journeyId],
  )
  return rows.map((r) => ({ key: r.entry_key, enteredAt: r.started_at }))
}

export async function saveRun(db: Queryable, workspaceId: string, run: Run): Promise<void> {
  await db.query(
    `INSERT INTO journey_runs (workspace_id, profile_id, run_id, journey_id, version, entry_key, status, state,
                               started_at, updated_at, ended_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
     ON CONFLICT (workspace_id, profile_id, run_id) DO UPDATE
       SET status = EXCLUDED.status, state = EXCLUDED.state, updated_at = EXCLUDED.updated_at, ended_at = EXCLUDED.ended_at`,
    [
      workspaceId,
      run.profileId,
      run.id,
      run.journeyId,
      run.version,
      run.key,
      run.status,
      JSON.stringify(runToJSON(run)),
      run.enteredAt.toISOString(),
      run.updatedAt.toISOString(),
      run.endedAt?.toISOString() ?? null,
    ],
  )
}

export async function insertTrace(
  db: Queryable,
  workspaceId: string,
  profileId: string,
  entries: readonly TraceEntry[],
): Promise<void> {
  if (entries.length === 0) return
  const rows = entries.map((e) => ({
    r: e.runId ?? `skipped:${e.journeyId}`,
    j: e.journeyId,
    at: e.at.toISOString(),
    s: e.stepId,
    k: e.kind,
    m: e.message,
    d: e.data,
  }))
  await db.query(
    `INSERT INTO journey_trace (workspace_id, profile_id, run_id, journey_id, at, step_id, kind, message, data)
     SELECT $1, $2, x.r, x.j, x.at, x.s, x.k, x.m, x.d
     FROM jsonb_to_recordset($3::jsonb) AS x(r text, j text, at timestamptz, s text, k text, m text, d jsonb)`,
    [workspaceId, profileId, JSON.stringify(rows)],
  )
}

export interface StoredTraceEntry extends TraceEntry {
  readonly seq: number
}

/** A person's trace (all their profile ids, merged ones included), oldest first, optionally for one journey. */
export async function profileTrace(
  db: Queryable,
  workspaceId: string,
  profileIds: readonly string[],
  journeyId?: string,
): Promise<StoredTraceEntry[]> {
  const rows = await db.query<{
    seq: number
    run_id: string
    journey_id: string
    at: Date
    step_id: string | null
    kind: TraceEntry['kind']
    message: string
    data: Record<string, unknown>
  }>(
    `SELECT seq, run_id, journey_id, at, step_id, kind, message, data FROM journey_trace
     WHERE workspace_id = $1 AND profile_id = ANY($2::uuid[]) AND ($3::text IS NULL OR journey_id = $3)
     ORDER BY at, seq`,
    [workspaceId, profileIds, journeyId ?? null],
  )
  return rows.map((r) => ({
    seq: r.seq,
    runId: r.run_id.startsWith('skipped:') ? null : r.run_id,
    journeyId: r.journey_id,
    at: r.at,
    stepId: r.step_id,
    kind: r.kind,
    message: r.message,
    data: r.data,
  }))
}

/** All runs of a person (all their profile ids; open and ended), newest first, optionally of one journey. */
export async function profileRuns(
  db: Queryable,
  workspaceId: string,
  profileIds: readonly string[],
  journeyId?: string,
): Promise<StoredRun[]> {
  const rows = await db.query<{ state: unknown; journey_id: string; version: number }>(
    `SELECT state, journey_id, version FROM journey_runs
     WHERE workspace_id = $1 AND profile_id = ANY($2::uuid[]) AND ($3::text IS NULL OR journey_id = $3)
     ORDER BY started_at DESC, run_id`,
    [workspaceId, profileIds, journeyId ?? null],
  )
  return rows.map((r) => ({ run: runFromJSON(r.state), journeyId: r.journey_id, version: r.version }))
}

/** What became of a message a run's send step queued (its row in the outbox and message log). */
export interface RunMessage {
  readonly runId: string
  readonly stepId: string
  readonly status: string
  /** Why a message was not sent (the guard or channel's reason), if it was not. */
  readonly error: string | null
}

/** The messages of a person's runs, for telling what each send step led to. */
export async function runMessages(
  db: Queryable,
  workspaceId: string,
  profileIds: readonly string[],
  journeyId?: string,
): Promise<RunMessage[]> {
  // A message held back or failed is told with the dispatcher's reason (the deciding guard,
  // the channel's answer); one that went out only with an error it may have had on the way.
  const rows = await db.query<{ run_id: string; step_id: string; status: string; last_error: string | null }>(
    `SELECT run_id, step_id, status,
            CASE WHEN status IN ('queued', 'sending', 'sent', 'delivered', 'opened', 'clicked', 'converted')
                 THEN last_error ELSE coalesce(reason, last_error) END AS last_error
     FROM messages
     WHERE workspace_id = $1 AND profile_id = ANY($2::uuid[]) AND run_id IS NOT NULL AND step_id IS NOT NULL
       AND ($3::text IS NULL OR journey_id = $3)
     ORDER BY created_at`,
    [workspaceId, profileIds, journeyId ?? null],
  )
  return rows.map((r) => ({ runId: r.run_id, stepId: r.step_id, status: r.status, error: r.last_error }))
}
