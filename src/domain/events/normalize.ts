// From a Segment call as received to the NewEvent the events log stores. Pure:
// receivedAt and the messageId generator are arguments.
import type { ErrorIssue } from '../errors.ts'
import { checkEventJson, joinPath } from './json-check.ts'
import { MAX_EVENT_BYTES } from './limits.ts'
import { partitionOf } from './partition.ts'
import { idOf } from './segment.ts'
import {
  checkCall,
  checkEnvelope,
  checkEventType,
  EVENT_TYPE_MESSAGE,
  isPlainObject,
} from './segment-check.ts'
import { resolveTimestamp } from './timestamps.ts'
import type { EventType, NewEvent } from './types.ts'

export interface NormalizeContext {
  readonly workspaceId: string
  readonly receivedAt: Date
  /** Makes a messageId for events sent without one. */
  readonly newMessageId: () => string
  /**
   * True when the whole request is at most MAX_EVENT_BYTES, so no event in it can
   * be larger: skips serialising each event to measure it.
   */
  readonly smallRequest?: boolean
  /**
   * True when the request was JSON text without a `\u` escape (and valid UTF-8):
   * then none of its strings can hold a NUL or a lone surrogate (JSON forbids raw
   * control characters in strings, UTF-8 cannot encode surrogates), which skips
   * checking every string for them.
   */
  readonly plainText?: boolean
}

export type RejectCode = 'NUDGE_ERR_VALIDATION' | 'NUDGE_ERR_EVENT_TOO_LARGE'

export type EventResult =
  | { readonly ok: true; readonly event: NewEvent }
  | { readonly ok: false; readonly code: RejectCode; readonly issues: readonly ErrorIssue[] }

/** What a batch brings to each of its items: Segment applies them to every event. */
interface BatchDefaults {
  readonly sentAt?: Date | null | undefined
  readonly context?: Record<string, unknown> | null | undefined
  readonly integrations?: Record<string, unknown> | null | undefined
  /** sentAt and receivedAt as ISO strings, formatted once per batch rather than per item. */
  readonly sentAtIso?: string | undefined
  readonly receivedAtIso?: string | undefined
}

const ID_FIELDS = ['userId', 'anonymousId', 'groupId', 'previousId'] as const

const fail = (issues: ErrorIssue[], code: RejectCode = 'NUDGE_ERR_VALIDATION'): EventResult => ({
  ok: false,
  code,
  issues,
})

/**
 * Validates and normalises one call. `type` comes from the route (/v1/track), or
 * from the item itself inside a batch (then `type` is undefined here).
 */
export function normalizeEvent(
  raw: unknown,
  routeType: EventType | undefined,
  ctx: NormalizeContext,
  prefix = '',
  defaults: BatchDefaults = {},
): EventResult {
  if (!isPlainObject(raw)) return fail([{ path: prefix, message: 'must be an object (one event)' }])
  const input = raw

  const type = routeType ?? checkEventType(input.type)
  if (!type) return fail([{ path: joinPath(prefix, 'type'), message: EVENT_TYPE_MESSAGE }])

  // Cheap structural checks first, so a hostile payload is not serialised to be measured.
  const json = checkEventJson(input, prefix, { strings: !ctx.plainText })
  if (json.issues.length) return fail(json.issues)
  if (!ctx.smallRequest && json.maxBytes > MAX_EVENT_BYTES) {
    const bytes = Buffer.byteLength(JSON.stringify(input))
    if (bytes > MAX_EVENT_BYTES)
      return fail(
        [
          {
            path: prefix,
            message: `is ${bytes} bytes; an event may be at most ${MAX_EVENT_BYTES} bytes (32 KB)`,
          },
        ],
        'NUDGE_ERR_EVENT_TOO_LARGE',
      )
  }

  const parsed = checkCall(type, input, prefix)
  if (!parsed.ok) return fail(parsed.issues)
  const call = parsed.call
  const userId = idOf(call.userId) ?? null
  const anonymousId = idOf(call.anonymousId) ?? null

  if (type === 'alias') {
    if (!userId) return fail([{ path: joinPath(prefix, 'userId'), message: 'is required for alias' }])
  } else if (!userId && !anonymousId) {
    return fail([{ path: joinPath(prefix, 'userId'), message: 'userId or anonymousId is required' }])
  }

  const sentAt = call.sentAt ?? defaults.sentAt ?? undefined
  const times = resolveTimestamp(
    {
      timestamp: call.timestamp ?? undefined,
      originalTimestamp: call.originalTimestamp ?? undefined,
      sentAt,
    },
    ctx.receivedAt,
  )
  if (!times)
    return fail([
      {
        path: joinPath(prefix, call.sentAt ? 'sentAt' : 'timestamp'),
        message: 'clock-skew correction (receivedAt - (sentAt - timestamp)) falls outside years 0001-9999',
      },
    ])

  const messageId = idOf(call.messageId) ?? ctx.newMessageId()
  const name =
    type === 'track'
      ? (call.event ?? null)
      : type === 'page' || type === 'screen'
        ? (call.name ?? null)
        : null

  // The payload keeps every field as sent (unknown ones too), minus the write key,
  // with ids as strings and Segment's timestamp fields filled in as Segment's own
  // exports show them.
  // (A spread and a guarded delete: a rest pattern copies slower, and deleting an
  // absent key still costs; this runs once per event.)
  const payload: Record<string, unknown> = { ...input }
  if ('writeKey' in payload) delete payload.writeKey
  payload.type = type
  payload.messageId = messageId
  payload.timestamp = times.timestamp.toISOString()
  payload.receivedAt = defaults.receivedAtIso ?? ctx.receivedAt.toISOString()
  if (times.originalTimestamp) payload.originalTimestamp = times.originalTimestamp.toISOString()
  else if ('originalTimestamp' in payload) delete payload.originalTimestamp
  if (sentAt) payload.sentAt = sentAt === defaults.sentAt ? defaults.sentAtIso : sentAt.toISOString()
  else if ('sentAt' in payload) delete payload.sentAt
  for (const key of ID_FIELDS) {
    const id = idOf(call[key] as string | number | null | undefined)
    if (id !== undefined) payload[key] = id
    else if (key in payload) delete payload[key]
  }
  if (defaults.context) payload.context = { ...defaults.context, ...(call.context ?? {}) }
  if (defaults.integrations) payload.integrations = { ...defaults.integrations, ...(call.integrations ?? {}) }

  return {
    ok: true,
    event: {
      workspaceId: ctx.workspaceId,
      messageId,
      type,
      name,
      userId,
      anonymousId,
      timestamp: times.timestamp,
      receivedAt: ctx.receivedAt,
      partition: partitionOf(ctx.workspaceId, userId, anonymousId),
      payload,
    },
  }
}

export interface RejectedItem {
  readonly index: number
  readonly code: RejectCode
  readonly issues: readonly ErrorIssue[]
}

export type BatchResult =
  | { readonly ok: true; readonly events: readonly NewEvent[]; readonly rejected: readonly RejectedItem[] }
  /** Not a batch at all: the whole request is refused. */
  | { readonly ok: false; readonly issues: readonly ErrorIssue[] }

export function normalizeBatch(body: unknown, ctx: NormalizeContext): BatchResult {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    return { ok: false, issues: [{ path: '', message: 'must be an object like {"batch": [...]}' }] }
  const envelope = checkEnvelope(body as Record<string, unknown>)
  if (!envelope.ok) return { ok: false, issues: envelope.issues }
  const { batch, sentAt, context, integrations } = envelope.envelope
  const defaults: BatchDefaults = {
    sentAt,
    context,
    integrations,
    sentAtIso: sentAt?.toISOString(),
    receivedAtIso: ctx.receivedAt.toISOString(),
  }
  const events: NewEvent[] = []
  const rejected: RejectedItem[] = []
  for (let i = 0; i < batch.length; i++) {
    const r = normalizeEvent(batch[i], undefined, ctx, `batch[${i}]`, defaults)
    if (r.ok) events.push(r.event)
    else rejected.push({ index: i, code: r.code, issues: r.issues })
  }
  return { ok: true, events, rejected }
}
