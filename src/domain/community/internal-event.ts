// The events the community model emits (`Stage Entered`, `Stage Stuck`, `Score Crossed`,
// `Badge Awarded`, `Badge Revoked`). The runtime appends them to the events log like any
// track call, so journeys and conditions see them with no special case. Properties are
// snake_case, as in Segment's spec, because journey authors write `event.properties.x`.

export type CommunityEventName =
  | 'Stage Entered'
  | 'Stage Stuck'
  | 'Score Crossed'
  | 'Badge Awarded'
  | 'Badge Revoked'

export interface CommunityEvent<
  P extends Readonly<Record<string, unknown>> = Readonly<Record<string, unknown>>,
> {
  readonly name: CommunityEventName
  readonly timestamp: Date
  readonly properties: P
}
