// What conditions see of a profile, read in one statement: traits and times, plus the
// community model's stage, score and badges, and segment memberships.

import { scoreAt } from '../domain/community/score.ts'
import { DEFAULT_SCORE_CONFIG } from '../domain/community/score-config.ts'
import { durationMs } from '../domain/conditions/duration.ts'
import type { EventFacts, ProfileFacts } from '../domain/conditions/types.ts'
import type { Queryable } from './db.ts'

const DEFAULT_HALF_LIFE_MS = durationMs(DEFAULT_SCORE_CONFIG.half_life)

export async function loadProfileFacts(
  db: Queryable,
  workspaceId: string,
  profileId: string,
  now: Date,
): Promise<ProfileFacts | undefined> {
  const rows = await db.query<{
    user_id: string | null
    traits: Record<string, unknown>
    timezone: string | null
    first_seen_at: Date
    last_seen_at: Date
    stage: string | null
    score_value: number | null
    score_at: Date | null
    badges: string[] | null
    segments: string[] | null
  }>(
    `SELECT p.user_id, p.traits, p.timezone, p.first_seen_at, p.last_seen_at,
       s.stage, sc.value AS score_value, sc.at AS score_at,
       (SELECT array_agg(b.badge) FROM profile_badges b
         WHERE b.workspace_id = p.workspace_id AND b.profile_id = p.profile_id AND b.revoked_at IS NULL) AS badges,
       (SELECT array_agg(m.segment_id) FROM segment_members m
         WHERE m.workspace_id = p.workspace_id AND m.profile_id = p.profile_id) AS segments
     FROM profiles p
     LEFT JOIN profile_stages s ON s.workspace_id = p.workspace_id AND s.profile_id = p.profile_id
     LEFT JOIN profile_scores sc ON sc.workspace_id = p.workspace_id AND sc.profile_id = p.profile_id
     WHERE p.workspace_id = $1 AND p.profile_id = $2`,
    [workspaceId, profileId],
  )
  const r = rows[0]
  if (!r) return undefined
  return {
    profileId,
    userId: r.user_id,
    traits: r.traits,
    firstSeenAt: r.first_seen_at,
    lastSeenAt: r.last_seen_at,
    timezone: r.timezone,
    segments: new Set(r.segments ?? []),
    badges: new Set(r.badges ?? []),
    stage: r.stage,
    score:
      r.score_value !== null && r.score_at !== null
        ? scoreAt({ value: r.score_value, at: r.score_at }, now, DEFAULT_HALF_LIFE_MS)
        : 0,
  }
}

/** The condition view of a stored event's payload. */
export function eventFactsOf(e: {
  type: string
  name: string | null
  timestamp: Date
  payload: Readonly<Record<string, unknown>>
}): EventFacts {
  const obj = (v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {}
  return {
    type: e.type,
    name: e.name,
    timestamp: e.timestamp,
    properties: obj(e.payload['properties']),
    traits: obj(e.payload['traits']),
    context: obj(e.payload['context']),
  }
}

/**
 * A profile's past events with the given names, newest first, for `performed`
 * conditions (filters are applied in memory by the conditions' own matching rules).
 */
export async function loadEventFacts(
  db: Queryable,
  workspaceId: string,
  profileId: string,
  names: readonly string[],
  limit = 10_000,
): Promise<Array<EventFacts & { messageId: string }>> {
  if (names.length === 0) return []
  const rows = await db.query<{
    message_id: string
    type: string
    name: string | null
    timestamp: Date
    payload: Record<string, unknown>
  }>(
    `SELECT message_id, type, name, timestamp, payload FROM events
     WHERE workspace_id = $1 AND profile_id = $2 AND name = ANY($3::text[])
     ORDER BY timestamp DESC LIMIT $4`,
    [workspaceId, profileId, names, limit],
  )
  return rows.map((r) => ({ ...eventFactsOf(r), messageId: r.message_id }))
}

/** Merges traits into a profile outside the processor (null removes a trait). */
export async function updateProfileTraits(
  db: Queryable,
  workspaceId: string,
  profileId: string,
  changes: Readonly<Record<string, unknown>>,
  now: Date,
): Promise<void> {
  await db.query(
    `UPDATE profiles SET updated_at = $4, traits = coalesce(
       (SELECT jsonb_object_agg(key, value) FROM jsonb_each(traits || $3::jsonb) WHERE value <> 'null'::jsonb), '{}')
     WHERE workspace_id = $1 AND profile_id = $2`,
    [workspaceId, profileId, JSON.stringify(changes), now.toISOString()],
  )
}
