// Journey definitions and their immutable versions. Applying a document creates the
// journey or a new version when its content changed; runs keep the version they entered.
import { createHash } from 'node:crypto'
import type { Queryable } from './db.ts'
import { requestTriggerSetup } from './time-triggers.ts'

export const JOURNEYS_CHANNEL = 'nudge_journeys'

export type JourneyStatus = 'draft' | 'published' | 'paused' | 'archived'

export interface JourneyRecord {
  readonly journeyId: string
  readonly name: string
  readonly status: JourneyStatus
  readonly liveVersion: number | null
  readonly latestVersion: number
  readonly createdAt: Date
  readonly updatedAt: Date
}

export interface JourneyVersion {
  readonly journeyId: string
  readonly version: number
  readonly definition: Record<string, unknown>
  readonly checksum: string
  readonly createdAt: Date
}

/** JSON with sorted keys, so that the same document always has the same checksum. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`
  }
  return JSON.stringify(value)
}

export function checksumOf(definition: unknown): string {
  return createHash('sha256').update(canonical(definition)).digest('hex')
}

interface JourneyRow {
  journey_id: string
  name: string
  status: JourneyStatus
  live_version: number | null
  latest_version: number
  created_at: Date
  updated_at: Date
}

const toRecord = (r: JourneyRow): JourneyRecord => ({
  journeyId: r.journey_id,
  name: r.name,
  status: r.status,
  liveVersion: r.live_version,
  latestVersion: r.latest_version,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
})

export type ApplyOutcome = 'created' | 'versioned' | 'unchanged'

/**
 * Stores a validated definition (it must have `id` and `name`). With `publish`, the
 * stored version becomes the live one. Call inside a transaction.
 */
export async function applyJourney(
  tx: Queryable,
  workspaceId: string,
  definition: Record<string, unknown> & { id: string; name: string },
  opts: { publish?: boolean } = {},
): Promise<{ outcome: ApplyOutcome; journey: JourneyRecord }> {
  const checksum = checksumOf(definition)
  const existing = await tx.query<JourneyRow>(
    'SELECT * FROM journeys WHERE workspace_id = $1 AND journey_id = $2 FOR UPDATE',
    [workspaceId, definition.id],
  )
  let outcome: ApplyOutcome
  let version: number
  const current = existing[0]
  if (!current) {
    outcome = 'created'
    version = 1
    const inserted = await tx.query(
      `INSERT INTO journeys (workspace_id, journey_id, name, status, latest_version) VALUES ($1, $2, $3, 'draft', 1)
       ON CONFLICT (workspace_id, journey_id) DO NOTHING RETURNING 1`,
      [workspaceId, definition.id, definition.name],
    )
    // Another transaction created it first (it waited for that one to commit): apply on top of it.
    if (inserted.length === 0) return applyJourney(tx, workspaceId, definition, opts)
  } else {
    const latest = await tx.query<{ checksum: string }>(
      'SELECT checksum FROM journey_versions WHERE workspace_id = $1 AND journey_id = $2 AND version = $3',
      [workspaceId, definition.id, current.latest_version],
    )
    version = latest[0]?.checksum === checksum ? current.latest_version : current.latest_version + 1
    outcome = version === current.latest_version ? 'unchanged' : 'versioned'
  }
  if (outcome !== 'unchanged') {
    await tx.query(
      'INSERT INTO journey_versions (workspace_id, journey_id, version, definition, checksum) VALUES ($1, $2, $3, $4, $5)',
      [workspaceId, definition.id, version, JSON.stringify(definition), checksum],
    )
    await tx.query(
      'UPDATE journeys SET latest_version = $3, name = $4, updated_at = now() WHERE workspace_id = $1 AND journey_id = $2',
      [workspaceId, definition.id, version, definition.name],
    )
  }
  if (opts.publish) await publishVersion(tx, workspaceId, definition.id, version)
  const journey = await getJourney(tx, workspaceId, definition.id)
  if (!journey) throw new Error(`journey ${definition.id} vanished during apply`)
  return { outcome, journey }
}

export async function publishVersion(
  tx: Queryable,
  workspaceId: string,
  journeyId: string,
  version?: number,
) {
  const rows = await tx.query(
    `UPDATE journeys SET status = 'published', live_version = coalesce($3, latest_version), updated_at = now()
     WHERE workspace_id = $1 AND journey_id = $2 AND status <> 'archived' RETURNING 1`,
    [workspaceId, journeyId, version ?? null],
  )
  // Date and schedule triggers need timers for the members who are already there.
  if (rows.length > 0) await requestTriggerSetup(tx, workspaceId, journeyId)
  await tx.query(`SELECT pg_notify('${JOURNEYS_CHANNEL}', $1)`, [workspaceId])
  return rows.length > 0
}

/** Pause stops new entries and freezes running runs; archive ends the journey for good. */
export async function setJourneyStatus(
  tx: Queryable,
  workspaceId: string,
  journeyId: string,
  status: 'paused' | 'archived',
): Promise<boolean> {
  const rows = await tx.query(
    `UPDATE journeys SET status = $3, updated_at = now()
     WHERE workspace_id = $1 AND journey_id = $2 AND status <> 'archived' AND ($3 = 'archived' OR status = 'published')
     RETURNING 1`,
    [workspaceId, journeyId, status],
  )
  await tx.query(`SELECT pg_notify('${JOURNEYS_CHANNEL}', $1)`, [workspaceId])
  return rows.length > 0
}

export async function getJourney(db: Queryable, workspaceId: string, journeyId: string) {
  const rows = await db.query<JourneyRow>(
    'SELECT * FROM journeys WHERE workspace_id = $1 AND journey_id = $2',
    [workspaceId, journeyId],
  )
  return rows[0] && toRecord(rows[0])
}

export async function listJourneys(db: Queryable, workspaceId: string): Promise<JourneyRecord[]> {
  const rows = await db.query<JourneyRow>(
    'SELECT * FROM journeys WHERE workspace_id = $1 ORDER BY journey_id',
    [workspaceId],
  )
  return rows.map(toRecord)
}

export async function getJourneyVersion(
  db: Queryable,
  workspaceId: string,
  journeyId: string,
  version: number,
): Promise<JourneyVersion | undefined> {
  const rows = await db.query<{ definition: Record<string, unknown>; checksum: string; created_at: Date }>(
    'SELECT definition, checksum, created_at FROM journey_versions WHERE workspace_id = $1 AND journey_id = $2 AND version = $3',
    [workspaceId, journeyId, version],
  )
  const r = rows[0]
  return r && { journeyId, version, definition: r.definition, checksum: r.checksum, createdAt: r.created_at }
}

/** The versions new runs enter: published journeys of a workspace. */
export async function liveJourneys(db: Queryable, workspaceId: string): Promise<JourneyVersion[]> {
  const rows = await db.query<{
    journey_id: string
    version: number
    definition: Record<string, unknown>
    checksum: string
    created_at: Date
  }>(
    `SELECT v.journey_id, v.version, v.definition, v.checksum, v.created_at
     FROM journeys j JOIN journey_versions v
       ON v.workspace_id = j.workspace_id AND v.journey_id = j.journey_id AND v.version = j.live_version
     WHERE j.workspace_id = $1 AND j.status = 'published'
     ORDER BY v.journey_id`,
    [workspaceId],
  )
  return rows.map((r) => ({
    journeyId: r.journey_id,
    version: r.version,
    definition: r.definition,
    checksum: r.checksum,
    createdAt: r.created_at,
  }))
}

export interface VersionSummary {
  readonly version: number
  readonly checksum: string
  readonly createdAt: Date
}

export async function listJourneyVersions(
  db: Queryable,
  workspaceId: string,
  journeyId: string,
): Promise<VersionSummary[]> {
  const rows = await db.query<{ version: number; checksum: string; created_at: Date }>(
    `SELECT version, checksum, created_at FROM journey_versions
     WHERE workspace_id = $1 AND journey_id = $2 ORDER BY version`,
    [workspaceId, journeyId],
  )
  return rows.map((r) => ({ version: r.version, checksum: r.checksum, createdAt: r.created_at }))
}

/** The latest version of every journey not archived: what a new document must not loop with. */
export async function latestDefinitions(
  db: Queryable,
  workspaceId: string,
): Promise<{ journeyId: string; definition: Record<string, unknown> }[]> {
  const rows = await db.query<{ journey_id: string; definition: Record<string, unknown> }>(
    `SELECT j.journey_id, v.definition FROM journeys j JOIN journey_versions v
       ON v.workspace_id = j.workspace_id AND v.journey_id = j.journey_id AND v.version = j.latest_version
     WHERE j.workspace_id = $1 AND j.status <> 'archived' ORDER BY j.journey_id`,
    [workspaceId],
  )
  return rows.map((r) => ({ journeyId: r.journey_id, definition: r.definition }))
}

/** Deletes a journey that was never published (so no run ever entered it). */
export async function deleteDraftJourney(tx: Queryable, workspaceId: string, journeyId: string) {
  const rows = await tx.query(
    `DELETE FROM journeys WHERE workspace_id = $1 AND journey_id = $2 AND live_version IS NULL RETURNING 1`,
    [workspaceId, journeyId],
  )
  if (rows.length === 0) return false
  await tx.query('DELETE FROM journey_versions WHERE workspace_id = $1 AND journey_id = $2', [
    workspaceId,
    journeyId,
  ])
  return true
}
