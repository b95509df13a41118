// Reading profiles for the admin API: resolve any identifier to the live profile
// (following merges), a profile with its identities, counters and groups, and search.
import type { Queryable } from '../db.ts'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** A merge chain longer than this is a bug; stop instead of looping. */
const MAX_MERGE_DEPTH = 32

export interface ProfileSummary {
  readonly id: string
  readonly userId: string | null
  readonly traits: Record<string, unknown>
  readonly timezone: string | null
  readonly firstSeenAt: Date
  readonly lastSeenAt: Date
  readonly createdAt: Date
}

export interface ProfileDetail extends ProfileSummary {
  readonly updatedAt: Date
  /** Profiles absorbed into this one (their identities and events are part of it). */
  readonly mergedFrom: string[]
  readonly identities: { kind: 'user_id' | 'anonymous_id'; value: string; firstSeenAt: Date }[]
  readonly counters: { event: string; count: number; firstAt: Date; lastAt: Date }[]
  readonly groups: { groupId: string; traits: Record<string, unknown>; joinedAt: Date }[]
}

/**
 * The live profile for a userId, an anonymousId or a profile uuid, in that order of
 * preference, following `merged_into` to the profile that absorbed it.
 */
export async function resolveProfileId(
  db: Queryable,
  workspaceId: string,
  id: string,
): Promise<string | undefined> {
  const rows = await db.query<{ profile_id: string }>(
    `WITH RECURSIVE start AS (
       SELECT profile_id, 1 AS prio FROM profile_identities
        WHERE workspace_id = $1 AND kind = 'user_id' AND value = $2
       UNION ALL
       SELECT profile_id, 2 FROM profile_identities
        WHERE workspace_id = $1 AND kind = 'anonymous_id' AND value = $2
       UNION ALL
       SELECT profile_id, 3 FROM profiles WHERE workspace_id = $1 AND user_id = $2 AND merged_into IS NULL
       UNION ALL
       SELECT profile_id, 4 FROM profiles WHERE workspace_id = $1 AND profile_id = $3::uuid
     ), chain (profile_id, merged_into, depth) AS (
       SELECT p.profile_id, p.merged_into, 0 FROM profiles p
        WHERE p.workspace_id = $1 AND p.profile_id = (SELECT profile_id FROM start ORDER BY prio LIMIT 1)
       UNION ALL
       SELECT p.profile_id, p.merged_into, c.depth + 1 FROM chain c
         JOIN profiles p ON p.workspace_id = $1 AND p.profile_id = c.merged_into
        WHERE c.depth < ${MAX_MERGE_DEPTH}
     )
     SELECT profile_id FROM chain WHERE merged_into IS NULL LIMIT 1`,
    [workspaceId, id, UUID.test(id) ? id : null],
  )
  return rows[0]?.profile_id
}

/** The profile and every profile merged into it, directly or not. */
export async function profileFamily(
  db: Queryable,
  workspaceId: string,
  profileId: string,
): Promise<string[]> {
  const rows = await db.query<{ profile_id: string }>(
    `WITH RECURSIVE fam (profile_id, depth) AS (
       SELECT $2::uuid, 0
       UNION
       SELECT p.profile_id, f.depth + 1 FROM fam f
         JOIN profiles p ON p.workspace_id = $1 AND p.merged_into = f.profile_id
        WHERE f.depth < ${MAX_MERGE_DEPTH}
     )
     SELECT DISTINCT profile_id FROM fam`,
    [workspaceId, profileId],
  )
  return rows.map((r) => r.profile_id)
}

export interface ProfileRow {
  profile_id: string
  user_id: string | null
  traits: Record<string, unknown>
  timezone: string | null
  first_seen_at: Date
  last_seen_at: Date
  created_at: Date
  updated_at: Date
  created_key: string
  [k: string]: unknown
}

export const PROFILE_COLUMNS = `profile_id, user_id, traits, timezone, first_seen_at, last_seen_at, created_at,
  updated_at, created_at::text AS created_key`

export function summary(r: ProfileRow): ProfileSummary {
  return {
    id: r.profile_id,
    userId: r.user_id,
    traits: r.traits,
    timezone: r.timezone,
    firstSeenAt: r.first_seen_at,
    lastSeenAt: r.last_seen_at,
    createdAt: r.created_at,
  }
}

export async function getProfile(
  db: Queryable,
  workspaceId: string,
  id: string,
): Promise<ProfileDetail | undefined> {
  const profileId = await resolveProfileId(db, workspaceId, id)
  if (!profileId) return undefined
  const family = await profileFamily(db, workspaceId, profileId)
  const [profile] = await db.query<ProfileRow>(
    `SELECT ${PROFILE_COLUMNS} FROM profiles WHERE workspace_id = $1 AND profile_id = $2`,
    [workspaceId, profileId],
  )
  if (!profile) return undefined
  const identities = await db.query<{ kind: 'user_id' | 'anonymous_id'; value: string; first_seen_at: Date }>(
    `SELECT kind, value, first_seen_at FROM profile_identities
      WHERE workspace_id = $1 AND profile_id = ANY($2::uuid[])
      ORDER BY first_seen_at, kind, value`,
    [workspaceId, family],
  )
  const counters = await db.query<{ event: string; count: number; first_at: Date; last_at: Date }>(
    `SELECT event, count, first_at, last_at FROM profile_event_counters
      WHERE workspace_id = $1 AND profile_id = $2 ORDER BY event`,
    [workspaceId, profileId],
  )
  const groups = await db.query<{
    group_id: string
    traits: Record<string, unknown> | null
    joined_at: Date
  }>(
    `SELECT pg.group_id, g.traits, pg.joined_at FROM profile_groups pg
       LEFT JOIN groups g ON g.workspace_id = pg.workspace_id AND g.group_id = pg.group_id
      WHERE pg.workspace_id = $1 AND pg.profile_id = $2 ORDER BY pg.joined_at, pg.group_id`,
    [workspaceId, profileId],
  )
  return {
    ...summary(profile),
    updatedAt: profile.updated_at,
    mergedFrom: family.filter((p) => p !== profileId).sort(),
    identities: identities.map((i) => ({ kind: i.kind, value: i.value, firstSeenAt: i.first_seen_at })),
    counters: counters.map((c) => ({
      event: c.event,
      count: c.count,
      firstAt: c.first_at,
      lastAt: c.last_at,
    })),
    groups: groups.map((g) => ({ groupId: g.group_id, traits: g.traits ?? {}, joinedAt: g.joined_at })),
  }
}

/** Position after which the next search page starts (newest profiles first). */
export interface ProfileKey {
  readonly createdAt: string
  readonly id: string
}

export interface ProfileSearch {
  /** A userId, anonymousId, profile id (merges followed) or an email (any case). */
  readonly q?: string | undefined
  /** Profiles whose trait `key`, as text, equals `value`. */
  readonly trait?: { key: string; value: string } | undefined
  readonly limit: number
  readonly after?: ProfileKey | undefined
}

/** Live (not merged-away) profiles, newest first; the order is stable, so pages never overlap. */
export async function searchProfiles(
  db: Queryable,
  workspaceId: string,
  s: ProfileSearch,
): Promise<{ items: ProfileSummary[]; next: ProfileKey | undefined }> {
  const byId = s.q ? await resolveProfileId(db, workspaceId, s.q) : undefined
  const rows = await db.query<ProfileRow>(
    `SELECT ${PROFILE_COLUMNS} FROM profiles
     WHERE workspace_id = $1 AND merged_into IS NULL
       AND ($2::text IS NULL OR profile_id = $3::uuid OR lower(traits ->> 'email') = lower($2))
       AND ($4::text IS NULL OR traits ->> $4 = $5)
       AND ($6::timestamptz IS NULL OR (created_at, profile_id) < ($6::timestamptz, $7::uuid))
     ORDER BY created_at DESC, profile_id DESC
     LIMIT $8`,
    [
      workspaceId,
      s.q ?? null,
      byId ?? null,
      s.trait?.key ?? null,
      s.trait?.value ?? null,
      s.after?.createdAt ?? null,
      s.after?.id ?? null,
      s.limit + 1,
    ],
  )
  const items = rows.slice(0, s.limit)
  const last = items.at(-1)
  return {
    items: items.map(summary),
    next: rows.length > s.limit && last ? { createdAt: last.created_key, id: last.profile_id } : undefined,
  }
}
