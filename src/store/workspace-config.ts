// What every processing round reads of a workspace's configuration, in one statement: the
// community settings and the segment definitions (two hooks ask for them, each a round
// trip of its own otherwise). Memoised on the round; outside a round each is read alone.
import type { StoredCommunitySettings } from './community-settings.ts'
import type { Queryable } from './db.ts'
import { roundCacheOf } from './round-cache.ts'
import type { StoredSegment } from './segments.ts'

export interface WorkspaceConfig {
  readonly community: StoredCommunitySettings
  readonly segments: readonly StoredSegment[]
}

/** The round's reading of the workspace's configuration, or null outside a round. */
export function roundWorkspaceConfig(q: Queryable, ws: string): Promise<WorkspaceConfig> | null {
  const round = roundCacheOf(q)
  return round ? round.memo(`workspace-config:${ws}`, () => loadWorkspaceConfig(q, ws)) : null
}

async function loadWorkspaceConfig(q: Queryable, ws: string): Promise<WorkspaceConfig> {
  const [r] = await q.query<{
    stages: unknown
    score: unknown
    badges: unknown
    segments: Array<{ definition: StoredSegment['segment']; updated_at: string }> | null
  }>(
    `SELECT c.stages, c.score, c.badges,
       (SELECT json_agg(json_build_object('definition', s.definition, 'updated_at', s.updated_at) ORDER BY s.segment_id)
        FROM segments s WHERE s.workspace_id = $1) AS segments
     FROM (SELECT 1) AS one
     LEFT JOIN community_settings c ON c.workspace_id = $1`,
    [ws],
  )
  return {
    community: { stages: r?.stages ?? null, score: r?.score ?? null, badges: r?.badges ?? null },
    segments: (r?.segments ?? []).map((s) => ({ segment: s.definition, updatedAt: new Date(s.updated_at) })),
  }
}
