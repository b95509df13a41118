// What conditions see of a profile, read in one statement: traits and times, plus the
// community model's stage, score and badges, and segment memberships.

import { scoreAt } from '../domain/community/score.ts'
import type { EventFacts, ProfileFacts } from '../domain/conditions/types.ts'
import { PAGE_COUNTER, SCREEN_COUNTER } from '../domain/profiles/state.ts'
import type { Queryable } from './db.ts'
import { type ProfileRecord, roundCacheOf } from './round-cache.ts'

/**
 * `halfLifeMs` decays the stored score to `now`: the workspace's score half-life
 * (runtime/community/settings.ts), never the default one.
 */
export async function loadProfileFacts(
  db: Queryable,
  workspaceId: string,
  profileId: string,
  now: Date,
  halfLifeMs: number,
): Promise<ProfileFacts | undefined> {
  const round = roundCacheOf(db)
  if (round) {
    const record = await round.record(workspaceId, profileId, (ids) =>
      loadProfileRecords(db, workspaceId, ids),
    )
    return record ? factsOf(profileId, record, now, halfLifeMs) : undefined
  }
  return (await loadProfilesFacts(db, workspaceId, [profileId], now, halfLifeMs)).get(profileId)
}

/** loadProfileFacts for many profiles in one statement (backfills); missing ones are absent. */
export async function loadProfilesFacts(
  db: Queryable,
  workspaceId: string,
  profileIds: readonly string[],
  now: Date,
  halfLifeMs: number,
): Promise<Map<string, ProfileFacts>> {
  const out = new Map<string, ProfileFacts>()
  if (roundCacheOf(db)) {
    for (const id of profileIds) {
      const facts = await loadProfileFacts(db, workspaceId, id, now, halfLifeMs)
      if (facts) out.set(id, facts)
    }
    return out
  }
  for (const [id, record] of await loadProfileRecords(db, workspaceId, profileIds))
    out.set(id, factsOf(id, record, now, halfLifeMs))
  return out
}

function factsOf(profileId: string, r: ProfileRecord, now: Date, halfLifeMs: number): ProfileFacts {
  const badges = new Set<string>()
  for (const [badge, held] of r.badges) if (held.revokedAt === null) badges.add(badge)
  return {
    profileId,
    userId: r.userId,
    traits: r.traits,
    firstSeenAt: r.firstSeenAt,
    lastSeenAt: r.lastSeenAt,
    timezone: r.timezone,
    segments: new Set(r.segments),
    badges,
    stage: r.stage?.stage ?? null,
    score: r.score ? scoreAt(r.score, now, halfLifeMs) : 0,
  }
}

const date = (v: unknown) => (v === null || v === undefined ? null : new Date(v as string | Date))

/**
 * Profiles with their community state (stage, score, badges held or revoked) and segment
 * memberships, in one statement; missing profiles are absent.
 */
export async function loadProfileRecords(
  db: Queryable,
  workspaceId: string,
  profileIds: readonly string[],
): Promise<Map<string, ProfileRecord>> {
  const out = new Map<string, ProfileRecord>()
  if (profileIds.length === 0) return out
  const rows = await db.query<{
    profile_id: string
    user_id: string | null
    traits: Record<string, unknown>
    timezone: string | null
    first_seen_at: Date
    last_seen_at: Date
    stage: string | null
    entered_at: Date | null
    demotion_pending_since: Date | null
    stuck_notified_at: Date | null
    score_value: number | null
    score_at: Date | null
    badges: Array<{ b: string; c: number; f: string; l: string; r: string | null }> | null
    segments: string[] | null
  }>(
    `SELECT p.profile_id, p.user_id, p.traits, p.timezone, p.first_seen_at, p.last_seen_at,
       s.stage, s.entered_at, s.demotion_pending_since, s.stuck_notified_at,
       sc.value AS score_value, sc.at AS score_at,
       (SELECT jsonb_agg(jsonb_build_object('b', b.badge, 'c', b.count, 'f', b.first_awarded_at,
            'l', b.last_awarded_at, 'r', b.revoked_at))
         FROM profile_badges b WHERE b.workspace_id = p.workspace_id AND b.profile_id = p.profile_id) AS badges,
       (SELECT array_agg(m.segment_id) FROM segment_members m
         WHERE m.workspace_id = p.workspace_id AND m.profile_id = p.profile_id) AS segments
     -- One key lookup each (LATERAL ... LIMIT 1): a join, or \`= ANY\` over a few hundred ids, may
     -- otherwise read the workspace's every row.
     FROM unnest($2::uuid[]) AS u(id)
     CROSS JOIN LATERAL (
       SELECT p.workspace_id, p.profile_id, p.user_id, p.traits, p.timezone, p.first_seen_at, p.last_seen_at
       FROM profiles p WHERE p.workspace_id = $1 AND p.profile_id = u.id LIMIT 1
     ) p
     LEFT JOIN LATERAL (
       SELECT s.stage, s.entered_at, s.demotion_pending_since, s.stuck_notified_at FROM profile_stages s
       WHERE s.workspace_id = p.workspace_id AND s.profile_id = p.profile_id LIMIT 1
     ) s ON true
     LEFT JOIN LATERAL (
       SELECT sc.value, sc.at FROM profile_scores sc
       WHERE sc.workspace_id = p.workspace_id AND sc.profile_id = p.profile_id LIMIT 1
     ) sc ON true`,
    [workspaceId, profileIds],
  )
  for (const r of rows)
    out.set(r.profile_id, {
      userId: r.user_id,
      traits: r.traits,
      timezone: r.timezone,
      firstSeenAt: new Date(r.first_seen_at),
      lastSeenAt: new Date(r.last_seen_at),
      stage:
        r.stage !== null && r.entered_at !== null
          ? {
              stage: r.stage,
              enteredAt: new Date(r.entered_at),
              demotionPendingSince: date(r.demotion_pending_since),
              stuckNotifiedAt: date(r.stuck_notified_at),
            }
          : null,
      score:
        r.score_value !== null && r.score_at !== null
          ? { value: Number(r.score_value), at: new Date(r.score_at) }
          : null,
      badges: new Map(
        (r.badges ?? []).map((b) => [
          b.b,
          {
            badge: b.b,
            count: Number(b.c),
            firstAwardedAt: new Date(b.f),
            lastAwardedAt: new Date(b.l),
            revokedAt: date(b.r),
          },
        ]),
      ),
      segments: new Set(r.segments ?? []),
    })
  return out
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
  const round = roundCacheOf(db)
  if (!round)
    return (await loadEventFactsOfProfiles(db, workspaceId, [profileId], names, limit)).get(profileId) ?? []
  if (names.length === 0) return []
  const wanted = [...new Set(names)].sort()
  const stored = await round.part<ReadonlyArray<EventFacts & { messageId: string }>>(
    `history:${limit}:${wanted.join('\u0000')}`,
    workspaceId,
    profileId,
    (ids) => loadEventFactsOfProfiles(db, workspaceId, ids, wanted, limit),
    [],
  )
  // Events of this round are filed under their profile only when it commits.
  const set = new Set(wanted)
  const seen = new Set(stored.map((e) => e.messageId))
  const recent = round
    .processedEvents(workspaceId, profileId)
    .filter((e) => set.has(e.name ?? '') && !seen.has(e.messageId))
    .reverse()
  return [...recent, ...stored]
}

/** loadEventFacts for many profiles in one statement (backfills), `limit` newest per profile. */
export async function loadEventFactsOfProfiles(
  db: Queryable,
  workspaceId: string,
  profileIds: readonly string[],
  names: readonly string[],
  limit = 10_000,
): Promise<Map<string, Array<EventFacts & { messageId: string }>>> {
  const out = new Map<string, Array<EventFacts & { messageId: string }>>(profileIds.map((p) => [p, []]))
  if (names.length === 0 || profileIds.length === 0) return out
  const rows = await db.query<{
    profile_id: string
    message_id: string
    type: string
    name: string | null
    timestamp: Date
    payload: Record<string, unknown>
  }>(
    // Each (profile, name) through events_profile_name, newest first and at most `limit`
    // (the `limit` newest of all the names are among them), whatever the statistics say.
    // Only the names the member has a counter of are looked up (one read of its counters,
    // in the same order as its events: a processed track event counts under its name):
    // most members have done few of the names a funnel or a journey asks about. A page or
    // screen view counts under one name for all pages, so a member who has any is looked
    // up for every name.
    `SELECT profile_id, message_id, type, name, timestamp, payload FROM (
       SELECT u.p AS profile_id, e.message_id, e.type, e.name, e.timestamp, e.payload,
         row_number() OVER (PARTITION BY u.p ORDER BY e.timestamp DESC) AS n
       FROM unnest($2::uuid[]) AS u(p)
       CROSS JOIN LATERAL (
         SELECT coalesce(array_agg(c.event), '{}') AS done FROM profile_event_counters c
         WHERE c.workspace_id = $1 AND c.profile_id = u.p
       ) k
       CROSS JOIN unnest($3::text[]) AS w(name)
       CROSS JOIN LATERAL (
         SELECT message_id, type, name, timestamp, payload FROM events
         WHERE workspace_id = $1 AND profile_id = u.p AND name = w.name
         ORDER BY timestamp DESC LIMIT $4
       ) e
       WHERE w.name = ANY(k.done) OR k.done && ARRAY['${PAGE_COUNTER}', '${SCREEN_COUNTER}']
     ) e WHERE n <= $4 ORDER BY profile_id, timestamp DESC`,
    [workspaceId, [...new Set(profileIds)], [...new Set(names)], limit],
  )
  for (const r of rows) out.get(r.profile_id)?.push({ ...eventFactsOf(r), messageId: r.message_id })
  return out
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
