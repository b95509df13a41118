// Builders for processor tests: Segment-shaped events, written with insertEvents as
// ingest writes them, and small readers of the resulting profiles.

import { partitionOf } from '../../src/domain/events/partition.ts'
import type { EventType, NewEvent } from '../../src/domain/events/types.ts'
import type { Queryable } from '../../src/store/db.ts'
import { insertEvents } from '../../src/store/events.ts'

let n = 0

export interface EventSpec {
  readonly type: EventType
  readonly userId?: string
  readonly anonymousId?: string
  readonly event?: string
  readonly name?: string
  readonly traits?: Record<string, unknown>
  readonly properties?: Record<string, unknown>
  readonly context?: Record<string, unknown>
  readonly groupId?: string
  readonly previousId?: string
  readonly timestamp?: string
  readonly messageId?: string
}

export function event(spec: EventSpec): NewEvent {
  const userId = spec.userId ?? null
  const anonymousId = spec.anonymousId ?? null
  const name =
    spec.type === 'track'
      ? (spec.event ?? null)
      : spec.type === 'page' || spec.type === 'screen'
        ? (spec.name ?? null)
        : null
  const ts = new Date(spec.timestamp ?? '2026-01-05T09:00:00Z')
  const payload: Record<string, unknown> = { type: spec.type }
  for (const k of [
    'userId',
    'anonymousId',
    'event',
    'name',
    'traits',
    'properties',
    'context',
    'groupId',
    'previousId',
  ] as const)
    if (spec[k] !== undefined) payload[k] = spec[k]
  return {
    workspaceId: 'default',
    messageId: spec.messageId ?? `m-${process.pid}-${++n}`,
    type: spec.type,
    name,
    userId,
    anonymousId,
    timestamp: ts,
    receivedAt: ts,
    partition: partitionOf('default', userId, anonymousId),
    payload,
  }
}

export async function send(db: Queryable, ...specs: EventSpec[]): Promise<NewEvent[]> {
  const events = specs.map(event)
  await insertEvents(db, events)
  return events
}

export interface ProfileView {
  profileId: string
  userId: string | null
  traits: Record<string, unknown>
  timezone: string | null
  firstSeenAt: string
  lastSeenAt: string
  identities: string[]
  counters: Record<string, { count: number; first: string; last: string }>
  groups: string[]
}

/** The live profile holding an identity, with everything the processor maintains. */
export async function profileOf(
  db: Queryable,
  kind: 'user_id' | 'anonymous_id',
  value: string,
): Promise<ProfileView | null> {
  const [p] = await db.query<{
    profile_id: string
    user_id: string | null
    traits: Record<string, unknown>
    timezone: string | null
    first_seen_at: Date
    last_seen_at: Date
  }>(
    `SELECT p.* FROM profile_identities i JOIN profiles p USING (workspace_id, profile_id)
     WHERE i.workspace_id = 'default' AND i.kind = $1 AND i.value = $2 AND p.merged_into IS NULL`,
    [kind, value],
  )
  if (!p) return null
  const ids = await db.query<{ kind: string; value: string }>(
    `SELECT kind, value FROM profile_identities WHERE workspace_id = 'default' AND profile_id = $1 ORDER BY kind, value`,
    [p.profile_id],
  )
  const counters = await db.query<{ event: string; count: number; first_at: Date; last_at: Date }>(
    `SELECT event, count, first_at, last_at FROM profile_event_counters WHERE workspace_id = 'default' AND profile_id = $1`,
    [p.profile_id],
  )
  const groups = await db.query<{ group_id: string }>(
    `SELECT group_id FROM profile_groups WHERE workspace_id = 'default' AND profile_id = $1 ORDER BY group_id`,
    [p.profile_id],
  )
  return {
    profileId: p.profile_id,
    userId: p.user_id,
    traits: p.traits,
    timezone: p.timezone,
    firstSeenAt: p.first_seen_at.toISOString(),
    lastSeenAt: p.last_seen_at.toISOString(),
    identities: ids.map((i) => `${i.kind}:${i.value}`),
    counters: Object.fromEntries(
      counters.map((c) => [
        c.event,
        { count: c.count, first: c.first_at.toISOString(), last: c.last_at.toISOString() },
      ]),
    ),
    groups: groups.map((g) => g.group_id),
  }
}

export async function liveProfileCount(db: Queryable): Promise<number> {
  const [r] = await db.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM profiles WHERE merged_into IS NULL',
  )
  return r?.n ?? 0
}

export async function pendingCount(db: Queryable): Promise<number> {
  const [r] = await db.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM events WHERE processed_at IS NULL',
  )
  return r?.n ?? 0
}
