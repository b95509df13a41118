// Profile writes made by the processor: identities, merges, profile fields, counters,
// groups. Every function runs inside the processor's batch transaction; the profile
// rows it touches are locked (FOR NO KEY UPDATE) by `findProfiles` first, which is what keeps
// two partitions from updating or merging the same person at once.
import type { Identity } from '../../domain/profiles/identity.ts'
import type { ProfileState } from '../../domain/profiles/state.ts'
import { traitChanges } from '../../domain/profiles/traits.ts'
import type { Queryable } from '../db.ts'
import { jsonRows } from '../json-rows.ts'

export interface LockedProfile {
  readonly profileId: string
  readonly userId: string | null
  readonly state: ProfileState
  /** Set when another transaction merged this profile away while we waited for its lock. */
  readonly mergedInto: string | null
}

type ProfileRow = {
  profile_id: string
  user_id: string | null
  traits: Record<string, unknown>
  timezone: string | null
  first_seen_at: Date
  last_seen_at: Date
  merged_into: string | null
}

const toLocked = (r: ProfileRow): LockedProfile => ({
  profileId: r.profile_id,
  userId: r.user_id,
  mergedInto: r.merged_into,
  state: {
    traits: r.traits,
    timezone: r.timezone,
    firstSeenAt: new Date(r.first_seen_at),
    lastSeenAt: new Date(r.last_seen_at),
  },
})

const iso = (d: Date) => d.toISOString()

/**
 * The profiles holding these identities, keyed `kind:value`, locked until the
 * transaction ends. Rows are locked in profile_id order so that two transactions
 * locking the same pair do not deadlock. The lock is FOR NO KEY UPDATE: it excludes
 * other rounds, jobs and an erasure (FOR UPDATE), but not a key-share lock, so a
 * delivery's settle, which only checks that its member still exists, does not wait for a
 * round (and cannot deadlock with one: it locks many members in no set order).
 */
export async function findProfiles(
  tx: Queryable,
  workspaceId: string,
  identities: readonly Identity[],
): Promise<Map<string, LockedProfile>> {
  const found = new Map<string, LockedProfile>()
  if (identities.length === 0) return found
  const rows = await tx.query<ProfileRow & { kind: string; value: string }>(
    // Each identity through the identities' primary key (LATERAL ... OFFSET 0 keeps it so
    // whatever the statistics say, and a prepared plan made when the table was small keeps
    // it too): a join here once read every identity of the workspace for each round.
    `WITH ids AS (
       SELECT x.k, x.v, i.profile_id FROM jsonb_to_recordset($2::jsonb) AS x(k text, v text)
       CROSS JOIN LATERAL (
         SELECT i.profile_id FROM profile_identities i
         WHERE i.workspace_id = $1 AND i.kind = x.k AND i.value = x.v OFFSET 0
       ) i
     )
     SELECT ids.k AS kind, ids.v AS value, p.profile_id, p.user_id, p.traits, p.timezone, p.first_seen_at, p.last_seen_at, p.merged_into
     FROM ids JOIN profiles p ON p.workspace_id = $1 AND p.profile_id = ids.profile_id
     ORDER BY p.profile_id
     FOR NO KEY UPDATE OF p`,
    [workspaceId, JSON.stringify(identities.map((i) => ({ k: i.kind, v: i.value })))],
  )
  for (const r of rows) found.set(`${r.kind}:${r.value}`, toLocked(r))
  return found
}

/**
 * Claims identities for a profile. An identity another transaction holds (committed, or
 * committed while we waited for it) is skipped: the caller resolves again and finds it.
 * Returns the identities this call claimed.
 */
export async function claimIdentities(
  tx: Queryable,
  workspaceId: string,
  profileId: string,
  identities: readonly Identity[],
  at: Date,
): Promise<Identity[]> {
  if (identities.length === 0) return []
  const rows = await tx.query<{ kind: Identity['kind']; value: string }>(
    `INSERT INTO profile_identities (workspace_id, kind, value, profile_id, first_seen_at)
     SELECT $1, x.k, x.v, $3::uuid, $4::timestamptz FROM jsonb_to_recordset($2::jsonb) AS x(k text, v text)
     ON CONFLICT (workspace_id, kind, value) DO NOTHING
     RETURNING kind, value`,
    [workspaceId, JSON.stringify(identities.map((i) => ({ k: i.kind, v: i.value }))), profileId, iso(at)],
  )
  return rows.map((r) => ({ kind: r.kind, value: r.value }))
}

/** A new, empty profile (its identities are claimed first, which serialises creators). */
export async function createProfile(
  tx: Queryable,
  workspaceId: string,
  profileId: string,
  userId: string | null,
  at: Date,
  now: Date,
): Promise<LockedProfile> {
  await tx.query(
    `INSERT INTO profiles (workspace_id, profile_id, user_id, traits, first_seen_at, last_seen_at, created_at, updated_at)
     VALUES ($1, $2, $3, '{}', $4, $4, $5, $5)`,
    [workspaceId, profileId, userId, iso(at), iso(now)],
  )
  return {
    profileId,
    userId,
    mergedInto: null,
    state: { traits: {}, timezone: null, firstSeenAt: at, lastSeenAt: at },
  }
}

export async function setUserId(
  tx: Queryable,
  workspaceId: string,
  profileId: string,
  userId: string,
): Promise<void> {
  await tx.query('UPDATE profiles SET user_id = $3 WHERE workspace_id = $1 AND profile_id = $2', [
    workspaceId,
    profileId,
    userId,
  ])
}

/**
 * Absorbs `source` into `target` (both locked by the caller): identities, counters
 * (summed, earliest first_at, latest last_at), group memberships and events move to
 * the target; traits combine with the target's values winning; the source keeps its
 * row with `merged_into` set, and so do profiles merged into it earlier (reads follow
 * one hop). Returns the target as it is after the merge.
 */
export async function mergeProfiles(
  tx: Queryable,
  workspaceId: string,
  source: string,
  target: string,
  now: Date,
): Promise<LockedProfile> {
  const p = [workspaceId, source, target]
  await tx.query(
    'UPDATE profile_identities SET profile_id = $3 WHERE workspace_id = $1 AND profile_id = $2',
    p,
  )
  await tx.query(
    `INSERT INTO profile_event_counters AS c (workspace_id, profile_id, event, count, first_at, last_at)
     SELECT workspace_id, $3, event, count, first_at, last_at FROM profile_event_counters
     WHERE workspace_id = $1 AND profile_id = $2
     ON CONFLICT (workspace_id, profile_id, event) DO UPDATE SET
       count = c.count + excluded.count,
       first_at = least(c.first_at, excluded.first_at),
       last_at = greatest(c.last_at, excluded.last_at)`,
    p,
  )
  await tx.query('DELETE FROM profile_event_counters WHERE workspace_id = $1 AND profile_id = $2', [
    workspaceId,
    source,
  ])
  await tx.query(
    `INSERT INTO profile_groups AS g (workspace_id, profile_id, group_id, joined_at)
     SELECT workspace_id, $3, group_id, joined_at FROM profile_groups WHERE workspace_id = $1 AND profile_id = $2
     ON CONFLICT (workspace_id, profile_id, group_id) DO UPDATE SET joined_at = least(g.joined_at, excluded.joined_at)`,
    p,
  )
  await tx.query('DELETE FROM profile_groups WHERE workspace_id = $1 AND profile_id = $2', [
    workspaceId,
    source,
  ])
  await tx.query('UPDATE events SET profile_id = $3 WHERE workspace_id = $1 AND profile_id = $2', p)
  const [row] = await tx.query<ProfileRow>(
    `UPDATE profiles t SET
       traits = s.traits || t.traits,
       timezone = coalesce(t.timezone, s.timezone),
       first_seen_at = least(t.first_seen_at, s.first_seen_at),
       last_seen_at = greatest(t.last_seen_at, s.last_seen_at),
       updated_at = $4
     FROM profiles s
     WHERE t.workspace_id = $1 AND t.profile_id = $3 AND s.workspace_id = $1 AND s.profile_id = $2
     RETURNING t.profile_id, t.user_id, t.traits, t.timezone, t.first_seen_at, t.last_seen_at, t.merged_into`,
    [...p, iso(now)],
  )
  await tx.query(
    `UPDATE profiles SET merged_into = $3, updated_at = $4
     WHERE workspace_id = $1 AND (profile_id = $2 OR merged_into = $2)`,
    [...p, iso(now)],
  )
  if (!row) throw new Error(`Cannot merge profile ${source} into ${target}: one of them is missing`)
  return toLocked(row)
}

/**
 * Writes the profile's fields after an event and bumps the event's counter, in one
 * round trip (the counter insert is skipped when `counter` is null).
 */
export async function saveProfile(
  tx: Queryable,
  workspaceId: string,
  profileId: string,
  state: ProfileState,
  counter: { readonly name: string; readonly at: Date } | null,
  now: Date,
): Promise<void> {
  await tx.query(
    `WITH p AS (
       UPDATE profiles SET traits = $3::jsonb, timezone = $4, first_seen_at = $5, last_seen_at = $6, updated_at = $7
       WHERE workspace_id = $1 AND profile_id = $2
       RETURNING 1
     )
     INSERT INTO profile_event_counters AS c (workspace_id, profile_id, event, count, first_at, last_at)
     SELECT $1, $2, $8::text, 1, $9::timestamptz, $9::timestamptz WHERE $8::text IS NOT NULL
     ON CONFLICT (workspace_id, profile_id, event) DO UPDATE SET
       count = c.count + 1,
       first_at = least(c.first_at, excluded.first_at),
       last_at = greatest(c.last_at, excluded.last_at)`,
    [
      workspaceId,
      profileId,
      JSON.stringify(state.traits),
      state.timezone,
      iso(state.firstSeenAt),
      iso(state.lastSeenAt),
      iso(now),
      counter?.name ?? null,
      counter ? iso(counter.at) : null,
    ],
  )
}

/** A profile's fields after a round, and what the round adds to its event counters. */
export interface ProfileSave {
  readonly workspaceId: string
  readonly profileId: string
  readonly state: ProfileState
  readonly counters: ReadonlyMap<
    string,
    { readonly count: number; readonly firstAt: Date; readonly lastAt: Date }
  >
}

/**
 * saveProfile for many profiles in one statement: each profile's last state, and the
 * counters bumped by how many of their events the round saw.
 */
export async function saveProfiles(tx: Queryable, saves: readonly ProfileSave[], now: Date): Promise<void> {
  if (saves.length === 0) return
  const { profiles, counters } = profileSaveRows(saves)
  // A data-modifying WITH runs whether or not the statement reads it.
  await tx.query(`WITH p AS (${PROFILES_UPDATE('$1', '$3')}) ${COUNTERS_UPSERT('$2')}`, [
    profiles,
    counters,
    iso(now),
  ])
}

/** The JSON parameters of PROFILES_UPDATE and COUNTERS_UPSERT, in a lock-safe order. */
export function profileSaveRows(saves: readonly ProfileSave[]): { profiles: string; counters: string } {
  const ordered = [...saves].sort((a, b) =>
    a.workspaceId === b.workspaceId
      ? a.profileId.localeCompare(b.profileId)
      : a.workspaceId.localeCompare(b.workspaceId),
  )
  const profiles = ordered.map((s) => ({
    w: s.workspaceId,
    p: s.profileId,
    t: s.state.traits,
    z: s.state.timezone,
    f: iso(s.state.firstSeenAt),
    l: iso(s.state.lastSeenAt),
  }))
  const counters = ordered.flatMap((s) =>
    [...s.counters]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([e, c]) => ({
        w: s.workspaceId,
        p: s.profileId,
        e,
        n: c.count,
        f: iso(c.firstAt),
        l: iso(c.lastAt),
      })),
  )
  return { profiles: JSON.stringify(profiles), counters: JSON.stringify(counters) }
}

/** Writes the profiles' fields of `param` (profileSaveRows), updated at `now`; a WITH query. */
export const PROFILES_UPDATE = (param: string, now: string) =>
  `UPDATE profiles p SET traits = x.t, timezone = x.z, first_seen_at = x.f, last_seen_at = x.l, updated_at = ${now}
   FROM ${jsonRows(param, 'w text, p uuid, t jsonb, z text, f timestamptz, l timestamptz')}
   WHERE p.workspace_id = x.w AND p.profile_id = x.p
   RETURNING 1`

/** Adds the counts of `param` (profileSaveRows) to the profiles' event counters. */
export const COUNTERS_UPSERT = (param: string) =>
  `INSERT INTO profile_event_counters AS c (workspace_id, profile_id, event, count, first_at, last_at)
   SELECT y.w, y.p, y.e, y.n, y.f, y.l
   FROM jsonb_to_recordset(${param}::jsonb) AS y(w text, p uuid, e text, n int, f timestamptz, l timestamptz)
   ON CONFLICT (workspace_id, profile_id, event) DO UPDATE SET
     count = c.count + excluded.count,
     first_at = least(c.first_at, excluded.first_at),
     last_at = greatest(c.last_at, excluded.last_at)`

/** Upserts the group with its traits (merged like profile traits) and the membership. */
export async function joinGroup(
  tx: Queryable,
  workspaceId: string,
  profileId: string,
  group: { readonly groupId: string; readonly traits: unknown },
  at: Date,
  now: Date,
): Promise<void> {
  const { set, remove } = traitChanges(group.traits)
  await tx.query(
    `WITH g AS (
       INSERT INTO groups AS g (workspace_id, group_id, traits, updated_at)
       VALUES ($1, $2, $3::jsonb, $6)
       ON CONFLICT (workspace_id, group_id) DO UPDATE SET
         traits = (g.traits - ARRAY(SELECT jsonb_array_elements_text($4::jsonb))) || excluded.traits,
         updated_at = excluded.updated_at
       RETURNING 1
     )
     INSERT INTO profile_groups (workspace_id, profile_id, group_id, joined_at)
     VALUES ($1, $5, $2, $7)
     ON CONFLICT (workspace_id, profile_id, group_id) DO NOTHING`,
    [workspaceId, group.groupId, JSON.stringify(set), JSON.stringify(remove), profileId, iso(now), iso(at)],
  )
}

export interface EventCounter {
  readonly event: string
  readonly count: number
  readonly firstAt: Date
  readonly lastAt: Date
}

/** A profile's counters (all, or one event's), as the current transaction sees them. */
export async function readCounters(
  q: Queryable,
  workspaceId: string,
  profileId: string,
  event?: string,
): Promise<EventCounter[]> {
  const rows = await q.query<{ event: string; count: number; first_at: Date; last_at: Date }>(
    `SELECT event, count, first_at, last_at FROM profile_event_counters
     WHERE workspace_id = $1 AND profile_id = $2 AND ($3::text IS NULL OR event = $3)
     ORDER BY event`,
    [workspaceId, profileId, event ?? null],
  )
  return rows.map((r) => ({
    event: r.event,
    count: r.count,
    firstAt: new Date(r.first_at),
    lastAt: new Date(r.last_at),
  }))
}
