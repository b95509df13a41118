// The trace: every decision of a run, as a plain sentence plus the data behind it.
// "Why did (not) Ann get the tips mail?" is answered from these entries (see why.ts).

export type TraceKind =
  | 'entered'
  | 'skipped'
  | 'delayed'
  | 'waiting'
  | 'received'
  | 'timed_out'
  | 'branch'
  | 'split'
  | 'send'
  | 'update'
  | 'goal_window'
  | 'converted'
  | 'exited'
  | 'completed'
  | 'failed'
  | 'timer_early'
  | 'timer_stale'
  /** The dispatcher's word on one of the run's messages: a guard's verdict, sent, retried, failed. */
  | 'message'

export interface TraceEntry {
  readonly at: Date
  readonly journeyId: string
  /** Null for entries about an entry that was skipped (no run was created). */
  readonly runId: string | null
  readonly stepId: string | null
  readonly kind: TraceKind
  readonly message: string
  readonly data: Readonly<Record<string, unknown>>
}
