// Zod schemas for the Segment Tracking API calls. Lenient on purpose: unknown
// fields (`_metadata`, `integrations`, `context.library`, ...) are never a reason to
// reject, ids may be numbers (normalize.ts makes them strings, as Segment does),
// `null` and "" count as absent. The schemas check the known fields only (z.object
// strips the rest from its output); the payload is built from the event as sent,
// which keeps unknown fields without paying for zod to copy them.
import { z } from 'zod'
import { MAX_ID_LENGTH } from './limits.ts'
import { parseSegmentDate } from './timestamps.ts'
import { EVENT_TYPES } from './types.ts'

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** A JSON object (not an array, not null). Its content is checked by checkEventJson. */
export const jsonObject = z.custom<Record<string, unknown>>(isPlainObject, { error: 'must be an object' })

/** String or number (normalize.ts makes it a string; "" is an absent id). */
export const segmentId = z.union(
  [z.string().max(MAX_ID_LENGTH, { error: `must be at most ${MAX_ID_LENGTH} characters` }), z.number()],
  { error: (iss) => (iss.input === undefined ? 'is required' : 'must be a string or a number') },
)

/** The string form of an id; undefined for absent ids (null, undefined, ""). */
export function idOf(v: string | number | null | undefined): string | undefined {
  if (v === null || v === undefined || v === '') return undefined
  return typeof v === 'number' ? String(v) : v
}

export const segmentDate = z.string({ error: 'must be an ISO-8601 date string' }).transform((s, ctx) => {
  const d = parseSegmentDate(s)
  if (d) return d
  ctx.addIssue({
    code: 'custom',
    message: 'must be an ISO-8601 date, e.g. 2026-01-31T09:30:00.000Z, between years 0001 and 9999',
  })
  return z.NEVER
})

const eventName = z
  .string({ error: 'must be a string' })
  .max(MAX_ID_LENGTH, { error: `must be at most ${MAX_ID_LENGTH} characters` })

const common = {
  messageId: segmentId.nullish(),
  userId: segmentId.nullish(),
  anonymousId: segmentId.nullish(),
  timestamp: segmentDate.nullish(),
  originalTimestamp: segmentDate.nullish(),
  sentAt: segmentDate.nullish(),
  context: jsonObject.nullish(),
  integrations: jsonObject.nullish(),
}

export const IdentifyCall = z.object({ ...common, traits: jsonObject.nullish() })
export const TrackCall = z.object({
  ...common,
  event: z
    .string({
      error: (iss) =>
        iss.input === undefined ? 'is required for track (the event name)' : 'must be a string',
    })
    .min(1, { error: 'must not be empty' })
    .max(MAX_ID_LENGTH, { error: `must be at most ${MAX_ID_LENGTH} characters` }),
  properties: jsonObject.nullish(),
})
export const PageCall = z.object({
  ...common,
  name: eventName.nullish(),
  category: eventName.nullish(),
  properties: jsonObject.nullish(),
})
export const ScreenCall = PageCall
export const GroupCall = z.object({
  ...common,
  groupId: segmentId.refine((v) => v !== '', { error: 'must not be empty' }),
  traits: jsonObject.nullish(),
})
export const AliasCall = z.object({
  ...common,
  previousId: segmentId.refine((v) => v !== '', { error: 'must not be empty' }),
})

export const callSchemas = {
  identify: IdentifyCall,
  track: TrackCall,
  page: PageCall,
  screen: ScreenCall,
  group: GroupCall,
  alias: AliasCall,
} as const

export type SegmentCall = z.output<(typeof callSchemas)[keyof typeof callSchemas]>

/** The envelope of POST /v1/batch: items are parsed one by one, so one bad item rejects only itself. */
export const BatchEnvelope = z.object({
  batch: z.array(z.unknown(), { error: 'must be an array of events (the body is not a batch)' }),
  sentAt: segmentDate.nullish(),
  context: jsonObject.nullish(),
  integrations: jsonObject.nullish(),
})

export const eventType = z.enum(EVENT_TYPES, { error: `must be one of ${EVENT_TYPES.join(', ')}` })
