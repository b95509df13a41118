// Response shapes of the admin API, shared by its routes and its OpenAPI document.
// Timestamps are ISO 8601 strings in UTC.
import { z } from 'zod'
import type { EventRecord } from '../../store/events-read.ts'
import type { ProfileDetail, ProfileSummary } from '../../store/profiles/read.ts'
import { CommunityViewSchema } from '../community-view.ts'

const Timestamp = z.iso.datetime()
const Json = z.record(z.string(), z.unknown())

export const ProfileSummarySchema = z
  .object({
    id: z.uuid(),
    userId: z.string().nullable(),
    traits: Json,
    timezone: z.string().nullable(),
    firstSeenAt: Timestamp,
    lastSeenAt: Timestamp,
    createdAt: Timestamp,
  })
  .meta({ id: 'ProfileSummary' })

export const ProfileSchema = ProfileSummarySchema.extend({
  updatedAt: Timestamp,
  mergedFrom: z.array(z.uuid()).describe('Profiles merged into this one'),
  identities: z.array(
    z.object({ kind: z.enum(['user_id', 'anonymous_id']), value: z.string(), firstSeenAt: Timestamp }),
  ),
  counters: z.array(
    z.object({ event: z.string(), count: z.number(), firstAt: Timestamp, lastAt: Timestamp }),
  ),
  groups: z.array(z.object({ groupId: z.string(), traits: Json, joinedAt: Timestamp })),
  community: CommunityViewSchema.describe('Stage, engagement score and badges (community model)'),
}).meta({ id: 'Profile' })

export const EventSchema = z
  .object({
    seq: z.number().describe('Position in the workspace log'),
    messageId: z.string(),
    type: z.enum(['identify', 'track', 'page', 'screen', 'group', 'alias']),
    name: z.string().nullable(),
    userId: z.string().nullable(),
    anonymousId: z.string().nullable(),
    profileId: z.uuid().nullable().describe('Null until the event is processed'),
    timestamp: Timestamp,
    receivedAt: Timestamp,
    processedAt: Timestamp.nullable(),
    payload: Json.describe('The Segment message as received (traits, properties, context, ...)'),
  })
  .meta({ id: 'Event' })

export function page<T extends z.ZodType>(item: T) {
  return z.object({
    items: z.array(item),
    nextCursor: z.string().nullable().describe('Pass as `cursor` for the next page; null on the last page'),
  })
}

export const profileSummaryJson = (p: ProfileSummary): z.input<typeof ProfileSummarySchema> => ({
  id: p.id,
  userId: p.userId,
  traits: p.traits,
  timezone: p.timezone,
  firstSeenAt: p.firstSeenAt.toISOString(),
  lastSeenAt: p.lastSeenAt.toISOString(),
  createdAt: p.createdAt.toISOString(),
})

export const profileJson = (
  p: ProfileDetail,
  community: z.input<typeof CommunityViewSchema>,
): z.input<typeof ProfileSchema> => ({
  ...profileSummaryJson(p),
  updatedAt: p.updatedAt.toISOString(),
  mergedFrom: p.mergedFrom,
  identities: p.identities.map((i) => ({ ...i, firstSeenAt: i.firstSeenAt.toISOString() })),
  counters: p.counters.map((c) => ({
    ...c,
    firstAt: c.firstAt.toISOString(),
    lastAt: c.lastAt.toISOString(),
  })),
  groups: p.groups.map((g) => ({ ...g, joinedAt: g.joinedAt.toISOString() })),
  community,
})

export const eventJson = (e: EventRecord): z.input<typeof EventSchema> => ({
  ...e,
  timestamp: e.timestamp.toISOString(),
  receivedAt: e.receivedAt.toISOString(),
  processedAt: e.processedAt?.toISOString() ?? null,
})
