// A run: one profile's way through one version of a journey.
//
// Status transitions (one advance goes from the left to the right):
//   enter   → delayed | waiting | completed | exited | converted | failed
//   delayed → delayed | waiting | completed | exited | converted | failed
//   waiting → delayed | waiting | completed | exited | converted | failed
//   completed, exited, converted, failed: final, no input changes them.
// A run is never left between steps: an advance goes on until the run waits for a timer
// (delayed: a delay step; waiting: a wait step or the goal window) or ends.
import type { JourneyEvent } from './event.ts'

export type RunStatus = 'delayed' | 'waiting' | 'completed' | 'exited' | 'converted' | 'failed'

export const FINAL_STATUSES: ReadonlySet<RunStatus> = new Set(['completed', 'exited', 'converted', 'failed'])

/** What a run in flight is waiting for; its timer is the only one the run owns. */
export type Pending =
  | { readonly kind: 'delay'; readonly stepId: string; readonly timerId: string; readonly until: Date }
  | { readonly kind: 'wait'; readonly stepId: string; readonly timerId: string; readonly until: Date }
  /** Steps are done; the run listens for its goal until the goal window closes. */
  | { readonly kind: 'goal'; readonly timerId: string; readonly until: Date }

export interface LastSend {
  readonly stepId: string
  readonly channel: string
  readonly template: string
  readonly at: Date
}

export interface Run {
  readonly id: string
  readonly journeyId: string
  readonly version: number
  readonly profileId: string
  /** The entry key: "once", the rendered once_per_key key, or the trigger event id. */
  readonly key: string
  readonly status: RunStatus
  /** The step the run stands on (a delay or wait), null otherwise. */
  readonly cursor: string | null
  readonly pending: Pending | null
  readonly triggerEvent: JourneyEvent
  /** Values captured from the trigger event for correlated waits and goal, by step id ("goal"). */
  readonly correlation: Readonly<Record<string, unknown>>
  readonly enteredAt: Date
  readonly updatedAt: Date
  readonly endedAt: Date | null
  /** Why the run ended, in a sentence. */
  readonly outcome: string | null
  /** The last message sent, to which a conversion is attributed. */
  readonly lastSend: LastSend | null
}

export function isFinal(status: RunStatus): boolean {
  switch (status) {
    case 'delayed':
    case 'waiting':
      return false
    case 'completed':
    case 'exited':
    case 'converted':
    case 'failed':
      return true
    default: {
      const never: never = status
      return never
    }
  }
}

const DATE_FIELDS = ['enteredAt', 'updatedAt', 'endedAt'] as const

/** A JSON-safe copy (dates as ISO strings), for a jsonb column. */
export function runToJSON(run: Run): unknown {
  return JSON.parse(JSON.stringify(run))
}

/** The inverse of runToJSON. */
export function runFromJSON(json: unknown): Run {
  const r = structuredClone(json) as Record<string, unknown>
  for (const f of DATE_FIELDS) if (typeof r[f] === 'string') r[f] = new Date(r[f] as string)
  const p = r['pending'] as { until: string } | null
  if (p) r['pending'] = { ...p, until: new Date(p.until) }
  const e = r['triggerEvent'] as { timestamp: string }
  r['triggerEvent'] = { ...e, timestamp: new Date(e.timestamp) }
  const s = r['lastSend'] as { at: string } | null
  if (s) r['lastSend'] = { ...s, at: new Date(s.at) }
  return r as unknown as Run
}
