// The ingest hot path's check of Segment calls: the same rules, the same issues
// (path and message, in the same order) and the same parsed values as the zod
// schemas in segment.ts, without zod's per-value machinery. segment.ts stays the
// documented schema (OpenAPI); test/ingest/properties.test.ts proves the two agree
// on arbitrary input. A rule changed in one must be changed in the other. One
// difference: a field gets one issue; zod also runs its length checks on a
// non-string that has a length (`"event": []` is "must be a string" and "must not
// be empty" there).
import type { ErrorIssue } from '../errors.ts'
import { joinPath } from './json-check.ts'
import { MAX_ID_LENGTH } from './limits.ts'
import { parseSegmentDate } from './timestamps.ts'
import { EVENT_TYPES, type EventType } from './types.ts'

/** The union of what the call checks output; each type fills its own fields. */
export interface ParsedCall {
  readonly [key: string]: unknown
  readonly messageId?: string | number | undefined | null
  readonly userId?: string | number | undefined | null
  readonly anonymousId?: string | number | undefined | null
  readonly timestamp?: Date | null | undefined
  readonly originalTimestamp?: Date | null | undefined
  readonly sentAt?: Date | null | undefined
  readonly context?: Record<string, unknown> | null | undefined
  readonly integrations?: Record<string, unknown> | null | undefined
  readonly event?: string | undefined
  readonly name?: string | null | undefined
}

export type CallCheck =
  | { readonly ok: true; readonly call: ParsedCall }
  | { readonly ok: false; readonly issues: ErrorIssue[] }

/** A rule's verdict on a value that is not accepted: the issue's message. */
class Invalid {
  readonly message: string
  constructor(message: string) {
    this.message = message
  }
}

type Rule = (v: unknown) => unknown

const TOO_LONG = new Invalid(`must be at most ${MAX_ID_LENGTH} characters`)
const NOT_ID = new Invalid('must be a string or a number')
const ID_REQUIRED = new Invalid('is required')
const NOT_OBJECT = new Invalid('must be an object')
const NOT_DATE_STRING = new Invalid('must be an ISO-8601 date string')
const NOT_DATE = new Invalid(
  'must be an ISO-8601 date, e.g. 2026-01-31T09:30:00.000Z, between years 0001 and 9999',
)
const NOT_STRING = new Invalid('must be a string')
const EMPTY = new Invalid('must not be empty')
const EVENT_REQUIRED = new Invalid('is required for track (the event name)')
const NOT_TYPE = new Invalid(`must be one of ${EVENT_TYPES.join(', ')}`)
const NOT_BATCH = new Invalid('must be an array of events (the body is not a batch)')

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

const nullish =
  (rule: Rule): Rule =>
  (v) =>
    v === null || v === undefined ? v : rule(v)

/** segmentId: a string of at most MAX_ID_LENGTH, or a finite number. */
const id: Rule = (v) => {
  if (typeof v === 'string') return v.length > MAX_ID_LENGTH ? TOO_LONG : v
  if (typeof v === 'number' && Number.isFinite(v)) return v
  return v === undefined ? ID_REQUIRED : NOT_ID
}
const requiredId: Rule = (v) => (v === '' ? EMPTY : id(v))
const object: Rule = (v) => (isPlainObject(v) ? v : NOT_OBJECT)
const date: Rule = (v) => {
  if (typeof v !== 'string') return NOT_DATE_STRING
  return parseSegmentDate(v) ?? NOT_DATE
}
const name: Rule = (v) => {
  if (typeof v !== 'string') return NOT_STRING
  return v.length > MAX_ID_LENGTH ? TOO_LONG : v
}
const eventName: Rule = (v) => {
  if (typeof v !== 'string') return v === undefined ? EVENT_REQUIRED : NOT_STRING
  if (v.length === 0) return EMPTY
  return v.length > MAX_ID_LENGTH ? TOO_LONG : v
}

type Shape = ReadonlyArray<readonly [string, Rule]>

// In the order of the zod shapes: issues come out in this order.
const common: Shape = [
  ['messageId', nullish(id)],
  ['userId', nullish(id)],
  ['anonymousId', nullish(id)],
  ['timestamp', nullish(date)],
  ['originalTimestamp', nullish(date)],
  ['sentAt', nullish(date)],
  ['context', nullish(object)],
  ['integrations', nullish(object)],
]
const page: Shape = [
  ...common,
  ['name', nullish(name)],
  ['category', nullish(name)],
  ['properties', nullish(object)],
]
const shapes: Readonly<Record<EventType, Shape>> = {
  identify: [...common, ['traits', nullish(object)]],
  track: [...common, ['event', eventName], ['properties', nullish(object)]],
  page,
  screen: page,
  group: [...common, ['groupId', requiredId], ['traits', nullish(object)]],
  alias: [...common, ['previousId', requiredId]],
}

function checkShape(shape: Shape, input: Record<string, unknown>, prefix: string): CallCheck {
  const call: Record<string, unknown> = {}
  const issues: ErrorIssue[] = []
  for (const [key, rule] of shape) {
    const v = rule(input[key])
    if (v instanceof Invalid) issues.push({ path: joinPath(prefix, key), message: v.message })
    else if (v !== undefined) call[key] = v
  }
  return issues.length ? { ok: false, issues } : { ok: true, call }
}

/** What callSchemas[type].safeParse(input) decides, for an input already known to be an object. */
export function checkCall(type: EventType, input: Record<string, unknown>, prefix: string): CallCheck {
  return checkShape(shapes[type], input, prefix)
}

/** What eventType.safeParse(v) decides: the type of a batch item. */
export function checkEventType(v: unknown): EventType | undefined {
  return typeof v === 'string' && (EVENT_TYPES as readonly string[]).includes(v)
    ? (v as EventType)
    : undefined
}
export const EVENT_TYPE_MESSAGE = NOT_TYPE.message

export interface ParsedEnvelope {
  readonly batch: readonly unknown[]
  readonly sentAt?: Date | null | undefined
  readonly context?: Record<string, unknown> | null | undefined
  readonly integrations?: Record<string, unknown> | null | undefined
}

export type EnvelopeCheck =
  | { readonly ok: true; readonly envelope: ParsedEnvelope }
  | { readonly ok: false; readonly issues: ErrorIssue[] }

const envelopeShape: Shape = [
  ['batch', (v) => (Array.isArray(v) ? v : NOT_BATCH)],
  ['sentAt', nullish(date)],
  ['context', nullish(object)],
  ['integrations', nullish(object)],
]

/** What BatchEnvelope.safeParse(body) decides, for a body already known to be an object. */
export function checkEnvelope(body: Record<string, unknown>): EnvelopeCheck {
  const r = checkShape(envelopeShape, body, '')
  return r.ok ? { ok: true, envelope: r.call as unknown as ParsedEnvelope } : r
}
