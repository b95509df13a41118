// An event as it sits in the events log, after validation and timestamp
// normalisation at ingest. `payload` keeps the Segment fields (traits,
// properties, context, groupId, previousId, ...) minus the write key.

export const EVENT_TYPES = ['identify', 'track', 'page', 'screen', 'group', 'alias'] as const
export type EventType = (typeof EVENT_TYPES)[number]

export interface NewEvent {
  readonly workspaceId: string
  readonly messageId: string
  readonly type: EventType
  /** `event` for track, `name` for page/screen, null otherwise. */
  readonly name: string | null
  readonly userId: string | null
  readonly anonymousId: string | null
  /** When it happened, after clock-skew correction. */
  readonly timestamp: Date
  /** When Nudge received it. */
  readonly receivedAt: Date
  readonly partition: number
  readonly payload: Readonly<Record<string, unknown>>
}

export interface StoredEvent extends NewEvent {
  readonly seq: number
  readonly profileId: string | null
  readonly processedAt: Date | null
}
