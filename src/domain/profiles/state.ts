// What one event does to a profile's own fields: traits, timezone, first/last seen,
// and which counter it increments. Identity and storage are decided elsewhere.
import { canonicalTimezone } from './timezone.ts'
import { mergeTraits, type Traits } from './traits.ts'

export interface ProfileState {
  readonly traits: Traits
  readonly timezone: string | null
  readonly firstSeenAt: Date
  readonly lastSeenAt: Date
}

/** The parts of an event the profile model reads. */
export interface ProfileEvent {
  readonly type: string
  readonly name: string | null
  readonly timestamp: Date
  readonly payload: Readonly<Record<string, unknown>>
}

/** Counter names of page and screen calls (track calls count under their event name). */
export const PAGE_COUNTER = 'Page Viewed'
export const SCREEN_COUNTER = 'Screen Viewed'

/** The per-profile counter an event increments, or null (identify, group, alias count nothing). */
export function counterName(event: Pick<ProfileEvent, 'type' | 'name'>): string | null {
  switch (event.type) {
    case 'track':
      return event.name || null
    case 'page':
      return PAGE_COUNTER
    case 'screen':
      return SCREEN_COUNTER
    default:
      return null
  }
}

function record(v: unknown): Readonly<Record<string, unknown>> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {}
}

/**
 * The profile after `event`. Only identify changes traits. The timezone is the
 * `timezone` trait when it is a valid IANA name (set on purpose), else the latest valid
 * `context.timezone` an SDK reported (detected on the device), else unchanged. Events
 * arriving late (older timestamp) still widen first/last seen correctly. Internal events
 * (`Message Sent`, `Segment Entered`... marked `context.nudge.internal`) are not the member
 * being seen: they leave last seen alone, or "inactive for 30 days" would end on its own
 * `Segment Entered`.
 */
export function applyEvent(state: ProfileState, event: ProfileEvent): ProfileState {
  const traits = event.type === 'identify' ? mergeTraits(state.traits, event.payload.traits) : state.traits
  const timezone =
    canonicalTimezone(traits.timezone) ??
    canonicalTimezone(record(event.payload.context).timezone) ??
    state.timezone
  const ts = event.timestamp
  return {
    traits,
    timezone,
    firstSeenAt: ts < state.firstSeenAt ? ts : state.firstSeenAt,
    lastSeenAt: ts > state.lastSeenAt && !isInternalEvent(event) ? ts : state.lastSeenAt,
  }
}

/** An event Nudge appended itself (hooks, timers, the dispatcher), not one the member caused. */
export function isInternalEvent(event: Pick<ProfileEvent, 'payload'>): boolean {
  return record(record(event.payload.context).nudge).internal === true
}

export interface GroupChange {
  readonly groupId: string
  readonly traits: unknown
}

/** The group a `group` call joins, with the group traits it carries. */
export function groupOf(event: ProfileEvent): GroupChange | null {
  if (event.type !== 'group') return null
  const id = event.payload.groupId
  if (typeof id === 'string' && id !== '') return { groupId: id, traits: event.payload.traits }
  if (typeof id === 'number') return { groupId: String(id), traits: event.payload.traits }
  throw new Error('A group call needs a groupId')
}
