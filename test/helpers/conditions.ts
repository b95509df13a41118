// Condition contexts for tests: a profile, an optional current event and past events,
// read through the real in-memory history.
import { memoryHistory } from '../../src/domain/conditions/history.ts'
import type { ConditionContext, EventFacts, ProfileFacts } from '../../src/domain/conditions/types.ts'

export function profile(over: Partial<ProfileFacts> = {}): ProfileFacts {
  return {
    profileId: 'p1',
    userId: 'u1',
    traits: {},
    firstSeenAt: null,
    lastSeenAt: null,
    timezone: null,
    segments: new Set(),
    badges: new Set(),
    stage: null,
    score: 0,
    ...over,
  }
}

/** A track event named `name` at `at`. */
export function event(name: string, at: Date | string, over: Partial<EventFacts> = {}): EventFacts {
  return {
    type: 'track',
    name,
    timestamp: new Date(at),
    properties: {},
    traits: {},
    context: {},
    ...over,
  }
}

export interface PastEvent {
  readonly name: string
  readonly timestamp: Date
  readonly properties?: Readonly<Record<string, unknown>>
}

export interface CtxInput {
  readonly now: Date
  readonly traits?: Record<string, unknown>
  readonly history?: readonly PastEvent[]
  readonly score?: number
  readonly badges?: readonly string[]
  readonly stage?: string | null
  readonly event?: EventFacts | null
}

/** A context for community tests: no stage order (the community functions set it). */
export function makeCtx(input: CtxInput): ConditionContext {
  return {
    now: input.now,
    profile: profile({
      traits: input.traits ?? {},
      badges: new Set(input.badges ?? []),
      stage: input.stage ?? null,
      score: input.score ?? 0,
    }),
    event: input.event ?? null,
    history: memoryHistory(
      (input.history ?? []).map((e) => event(e.name, e.timestamp, { properties: e.properties ?? {} })),
    ),
    stages: [],
  }
}
