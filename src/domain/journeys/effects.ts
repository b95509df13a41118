// What an advance asks the runtime to do, in the same transaction as the run's new state.
// Every effect carries a deterministic idempotency key built from the run, the step and the
// attempt, so a retried transaction or a replayed input never repeats it.

export type TimerPurpose = 'delay' | 'wait_timeout' | 'goal_window'

export type JourneyEventName = 'Journey Entered' | 'Journey Exited' | 'Journey Converted'

export type Effect =
  | {
      readonly type: 'schedule_timer'
      /** Also its idempotency key: scheduling the same timer twice is one timer. */
      readonly timerId: string
      readonly runId: string
      readonly at: Date
      readonly purpose: TimerPurpose
      readonly stepId: string | null
      readonly idempotencyKey: string
    }
  | {
      readonly type: 'cancel_timer'
      readonly timerId: string
      readonly runId: string
      readonly idempotencyKey: string
    }
  | {
      readonly type: 'send'
      readonly runId: string
      readonly journeyId: string
      readonly profileId: string
      readonly stepId: string
      readonly channel: string
      readonly template: string
      readonly from: string | null
      readonly replyTo: string | null
      readonly plainText: boolean
      readonly transactional: boolean
      readonly idempotencyKey: string
    }
  | {
      readonly type: 'update_profile'
      readonly runId: string
      readonly profileId: string
      readonly stepId: string
      readonly set: Readonly<Record<string, unknown>>
      readonly unset: readonly string[]
      readonly points: number
      readonly addTags: readonly string[]
      readonly removeTags: readonly string[]
      readonly badge: string | null
      readonly idempotencyKey: string
    }
  | {
      readonly type: 'emit_event'
      readonly name: JourneyEventName
      readonly profileId: string
      readonly properties: Readonly<Record<string, unknown>>
      readonly idempotencyKey: string
    }

export type EffectType = Effect['type']

/**
 * "run/step/what/attempt". Steps never repeat within a run (there are no loops), so the
 * attempt is 1 today; it is part of the key so that a future repeat cannot collide.
 */
export function effectKey(runId: string, stepId: string, what: string, attempt = 1): string {
  return `${runId}/${stepId}/${what}/${attempt}`
}
