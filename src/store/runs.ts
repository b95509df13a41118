// Journey runs and their trace. A run's state is the engine's Run as JSON; the columns
// beside it are what queries filter on.
import type { EntryHistory } from '../domain/journeys/entry.ts'
import { type Run, runFromJSON } from '../domain/journeys/run.ts'
import type { TraceEntry } from '../domain/journeys/trace.ts'
import type { Queryable } from './db.ts'
import { jsonRows } from './json-rows.ts'
import { roundCacheOf } from './round-cache.ts'

export interface StoredRun {
  readonly run: Run
  readonly journeyId: string
  readonly version: number
}

export async function openRuns(db: Queryable, workspaceId: string, profileId: string): Promise<StoredRun[]> {
  const load = (ids: readonly string[]) => openRunsOf(db, workspaceId, ids)
  const round = roundCacheOf(db)
  if (round) return [...(await round.part<readonly StoredRun[]>('runs', workspaceId, profileId, load, []))]
  return (await load([profileId])).get(profileId) ?? []
}

/** openRuns of many profiles in one statement; profiles without open runs are absent. */
async function openRunsOf(
  db: Queryable,
  workspaceId: string,
  profileIds: readonly string[],
): Promise<Map<string, StoredRun[]>> {
  const rows = await db.query<{ profile_id: string; state: unknown; journey_id: string; version: number }>(
    // Per profile through the open-runs index (LATERAL ... OFFSET 0 keeps it so).
    `SELECT u.p AS profile_id, r.state, r.journey_id, r.version FROM unnest($2::uuid[]) AS u(p)
     CROSS JOIN LATERAL (
       SELECT state, journey_id, version, started_at, run_id FROM journey_runs
       WHERE workspace_id = $1 AND profile_id = u.p AND ended_at IS NULL OFFSET 0
     ) r
     ORDER BY u.p, r.started_at, r.run_id`,
    [workspaceId, profileIds],
  )
  const out = new Map<string, StoredRun[]>()
  for (const r of rows) {
    const run = { run: runFromJSON(r.state), journeyId: r.journey_id, version: r.version }
    const list = out.get(r.profile_id)
    if (list) list.push(run)
    else out.set(r.profile_id, [run])
  }
  return out
}

/** Locks and loads runs in one statement, keyed by `profileId/runId`; missing ones are absent. */
export async function loadRunsForUpdate(
  db: Queryable,
  workspaceId: string,
  keys: ReadonlyArray<{ readonly profileId: string; readonly runId: string }>,
): Promise<Map<string, StoredRun>> {
  const out = new Map<string, StoredRun>()
  if (keys.length === 0) return out
  const rows = await db.query<{
    profile_id: string
    run_id: string
    state: unknown
    journey_id: string
    version: number
  }>(
    `SELECT r.profile_id, r.run_id, r.state, r.journey_id, r.version
     FROM journey_runs r JOIN ${jsonRows('$2', 'p uuid, r text')}
       ON r.profile_id = x.p AND r.run_id = x.r
     WHERE r.workspace_id = $1
     ORDER BY r.profile_id, r.run_id
     FOR UPDATE OF r`,
    [workspaceId, JSON.stringify(keys.map((k) => ({ p: k.profileId, r: k.runId })))],
  )
  for (const r of rows)
    out.set(`${r.profile_id}/${r.run_id}`, {
      run: runFromJSON(r.state),
      journeyId: r.journey_id,
      version: r.version,
    })
  return out
}

/**
 * Earlier entries of a profile into a journey (any version), for entry rules: as many as
 * `history` says they need (entryHistory), a window counted back from `now`.
 */
export async function pastEntries(
  db: Queryable,
  workspaceId: string,
  profileId: string,
  journeyId: string,
  history: EntryHistory,
  now: Date,
): Promise<Array<{ key: string; enteredAt: Date }>> {
  if (history.kind === 'none') return []
  const load = async (ids: readonly string[]) => {
    // Per profile, through an index that starts with the profile (LATERAL ... OFFSET 0), whatever
    // the statistics say. `IS TRUE` keeps the journey out of the index choice: a plan through
    // the journey's index reads every run of the journey, for each profile.
    const bound =
      history.kind === 'first'
        ? 'ORDER BY started_at LIMIT 1'
        : history.kind === 'since'
          ? 'AND started_at > $4::timestamptz OFFSET 0'
          : 'OFFSET 0'
    const rows = await db.query<{ profile_id: string; entry_key: string; started_at: Date }>(
      `SELECT u.p AS profile_id, r.entry_key, r.started_at FROM unnest($2::uuid[]) AS u(p)
       CROSS JOIN LATERAL (
         SELECT entry_key, started_at FROM journey_runs
         WHERE workspace_id = $1 AND profile_id = u.p AND (journey_id = $3) IS TRUE ${bound}
       ) r
       ORDER BY u.p, r.started_at`,
      history.kind === 'since'
        ? [workspaceId, ids, journeyId, new Date(now.getTime() - history.ms).toISOString()]
        : [workspaceId, ids, journeyId],
    )
    const out = new Map<string, Array<{ key: string; enteredAt: Date }>>()
    for (const r of rows) {
      const entry = { key: r.entry_key, enteredAt: new Date(r.started_at) }
      const list = out.get(r.profile_id)
      if (list) list.push(entry)
      else out.set(r.profile_id, [entry])
    }
    return out
  }
  const round = roundCacheOf(db)
  // One read per journey and round: its window is counted from the first read's `now`, which
  // is no later than the others' (decideEntry counts its own window within it).
  if (round) return [...(await round.part(`entries:${journeyId}`, workspaceId, profileId, load, []))]
  return (await load([profileId])).get(profileId) ?? []
}

/**
 * The JSON parameter of RUNS_UPSERT: each run's last state (one statement may not update a
 * row twice). Runs are read through the round cache: the next read of these profiles takes
 * them anew.
 */
export function runRows(
  db: Queryable,
  runs: ReadonlyArray<{ readonly workspaceId: string; readonly run: Run }>,
): string {
  const round = roundCacheOf(db)
  if (round) for (const r of runs) round.forget(r.workspaceId, r.run.profileId)
  const last = new Map<string, { readonly workspaceId: string; readonly run: Run }>()
  for (const r of runs) last.set(`${r.workspaceId}\u0000${r.run.profileId}\u0000${r.run.id}`, r)
  return JSON.stringify(
    [...last.values()].map(({ workspaceId, run }) => ({
      w: workspaceId,
      p: run.profileId,
      r: run.id,
      j: run.journeyId,
      v: run.version,
      k: run.key,
      st: run.status,
      // The run itself: stringified once here, its dates as ISO strings (what runToJSON makes).
      s: run,
      a: run.enteredAt.toISOString(),
      u: run.updatedAt.toISOString(),
      e: run.endedAt?.toISOString() ?? null,
    })),
  )
}

/** Upserts the runs of `param` (runRows); usable as a WITH query. */
export const RUNS_UPSERT = (param: string) =>
  `INSERT INTO journey_runs (workspace_id, profile_id, run_id, journey_id, version, entry_key, status, state,
                             started_at, updated_at, ended_at)
   SELECT x.w, x.p, x.r, x.j, x.v, x.k, x.st, x.s, x.a, x.u, x.e
   FROM jsonb_to_recordset(${param}::jsonb)
     AS x(w text, p uuid, r text, j text, v int, k text, st text, s jsonb, a timestamptz, u timestamptz, e timestamptz)
   ON CONFLICT (workspace_id, profile_id, run_id) DO UPDATE
     SET status = EXCLUDED.status, state = EXCLUDED.state, updated_at = EXCLUDED.updated_at, ended_at = EXCLUDED.ended_at`

/** Appends trace entries of many profiles in one statement. */
export async function insertTraces(db: Queryable, traces: readonly TraceRows[]): Promise<void> {
  const rows = traceRows(traces)
  if (rows === null) return
  await db.query(TRACE_INSERT('$1'), [rows])
}

type TraceRows = {
  readonly workspaceId: string
  readonly profileId: string
  readonly entries: readonly TraceEntry[]
  /** Keys of the caller's added to each row (the insert ignores them). */
  readonly tag?: Readonly<Record<string, unknown>>
}

/** The JSON parameter of TRACE_INSERT, or null when there is no entry. */
export function traceRows(traces: readonly TraceRows[]): string | null {
  const rows = traces.flatMap(({ workspaceId, profileId, entries, tag }) =>
    entries.map((e) => ({
      ...tag,
      w: workspaceId,
      p: profileId,
      r: e.runId ?? `skipped:${e.journeyId}`,
      j: e.journeyId,
      at: e.at.toISOString(),
      s: e.stepId,
      k: e.kind,
      m: e.message,
      d: e.data,
    })),
  )
  return rows.length === 0 ? null : JSON.stringify(rows)
}

/** Appends the trace entries of `param` (traceRows); usable as a WITH query. */
export const TRACE_INSERT = (param: string) =>
  `INSERT INTO journey_trace (workspace_id, profile_id, run_id, journey_id, at, step_id, kind, message, data)
   SELECT x.w, x.p, x.r, x.j, x.at, x.s, x.k, x.m, x.d
   FROM jsonb_to_recordset(${param}::jsonb)
     AS x(w text, p uuid, r text, j text, at timestamptz, s text, k text, m text, d jsonb)`

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
  readonly profileId: string
  readonly messageId: string
  readonly status: string
  /** Why a message was not sent (the guard or channel's reason), if it was not. */
  readonly error: string | null
  readonly channel: string
  /** For a message still queued: when it is due, why it went back to the queue if it did. */
  readonly queued: { readonly notBefore: Date; readonly reason: string | null } | null
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
  const rows = await db.query<{
    run_id: string
    step_id: string
    profile_id: string
    message_id: string
    status: string
    last_error: string | null
    channel: string
    not_before: Date
    reason: string | null
  }>(
    `SELECT run_id, step_id, profile_id, message_id, status, channel, not_before, reason,
            CASE WHEN status IN ('queued', 'sending', 'sent', 'delivered', 'opened', 'clicked', 'converted')
                 THEN last_error ELSE coalesce(reason, last_error) END AS last_error
     FROM messages
     WHERE workspace_id = $1 AND profile_id = ANY($2::uuid[]) AND run_id IS NOT NULL AND step_id IS NOT NULL
       AND ($3::text IS NULL OR journey_id = $3)
     ORDER BY created_at`,
    [workspaceId, profileIds, journeyId ?? null],
  )
  return rows.map((r) => ({
    runId: r.run_id,
    stepId: r.step_id,
    profileId: r.profile_id,
    messageId: r.message_id,
    status: r.status,
    error: r.last_error,
    channel: r.channel,
    queued: r.status === 'queued' ? { notBefore: new Date(r.not_before), reason: r.reason } : null,
  }))
}
