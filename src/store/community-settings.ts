// SQL for a workspace's community configuration (funnel, score table, badge rules).
// Values are stored as accepted by the admin API; null columns mean the defaults.
import type { Queryable } from './db.ts'
import { roundWorkspaceConfig } from './workspace-config.ts'

export type CommunityPart = 'stages' | 'score' | 'badges'

export interface StoredCommunitySettings {
  readonly stages: unknown
  readonly score: unknown
  readonly badges: unknown
}

export async function loadCommunitySettings(q: Queryable, ws: string): Promise<StoredCommunitySettings> {
  const inRound = roundWorkspaceConfig(q, ws)
  if (inRound) return (await inRound).community
  const [r] = await q.query<{ stages: unknown; score: unknown; badges: unknown }>(
    'SELECT stages, score, badges FROM community_settings WHERE workspace_id = $1',
    [ws],
  )
  return { stages: r?.stages ?? null, score: r?.score ?? null, badges: r?.badges ?? null }
}

/** Replaces one part of the configuration; the others keep their value. */
export async function saveCommunityPart(
  q: Queryable,
  ws: string,
  part: CommunityPart,
  value: unknown,
  now: Date,
  by: string | null,
): Promise<void> {
  // `part` is one of three column names, never user input.
  await q.query(
    `INSERT INTO community_settings (workspace_id, ${part}, updated_at, updated_by) VALUES ($1, $2::jsonb, $3, $4)
     ON CONFLICT (workspace_id) DO UPDATE SET ${part} = EXCLUDED.${part}, updated_at = EXCLUDED.updated_at,
       updated_by = EXCLUDED.updated_by`,
    [ws, JSON.stringify(value), now.toISOString(), by],
  )
}

/** Profiles of a workspace (not merged away), a page at a time, for re-evaluation and backfill. */
export async function workspaceProfileIds(
  q: Queryable,
  ws: string,
  after: string | null,
  limit: number,
): Promise<string[]> {
  const rows = await q.query<{ profile_id: string }>(
    `SELECT profile_id FROM profiles WHERE workspace_id = $1 AND merged_into IS NULL
       AND ($2::uuid IS NULL OR profile_id > $2::uuid) ORDER BY profile_id LIMIT $3`,
    [ws, after, limit],
  )
  return rows.map((r) => r.profile_id)
}
