// The events processor: consumes the events log partition by partition, in seq order,
// applying each event to its profile and running the hooks. Any number of processes
// share one database.
//
// One round = one transaction: lease a few partitions that have due work (SKIP LOCKED:
// one worker at a time per partition), apply their pending events, mark them
// processed, release the leases, commit. The follow-ups the hooks emit (Journey Entered,
// Stage Entered...) are applied in the same round, right after their cause, and written
// to the log already processed. Claiming inside the transaction costs no
// extra commit (commits are what an fsync-bound database pays for), and a worker that
// dies mid-round loses nothing: its transaction rolls back and the partitions are free
// at once. Leases left between transactions (an older worker, an operator pausing a
// partition) are respected until `lease_until`, then taken over.
//
// Wake-up: ingest raises NOTIFY in the inserting transaction, so a round starts within
// milliseconds of the commit; a slow poll only catches lost notifications (a dropped
// LISTEN connection) and retries scheduled by other workers.
import { hostname } from 'node:os'
import type { Clock } from '../domain/clock.ts'
import type { Logger } from '../log.ts'
import type { Db } from '../store/db.ts'
import { EVENTS_CHANNEL } from '../store/events.ts'
import {
  claimPartitions,
  finishRound,
  pendingEvents,
  recordFailure,
  releasePartitions,
} from '../store/processing.ts'
import { applyEvents, EventFailure, FlushFailure, FollowUpFailure, PrefetchFailure } from './apply-events.ts'
import type { ProcessorHook } from './hooks.ts'

export interface ProcessorOptions {
  readonly db: Db
  readonly clock: Clock
  readonly log: Logger
  readonly hooks?: readonly ProcessorHook[]
  /** Unique per process; shows in processor_partitions.lease_owner. */
  readonly workerId?: string
  /** Rounds run at once (default 2 on a server, 1 embedded: PGlite has one connection). */
  readonly concurrency?: number
  /** Most events applied in one round (default 500). */
  readonly batchSize?: number
  /** Most partitions leased by one round (default 32: two rounds at once cover all 64). */
  readonly partitionsPerRound?: number
  /** Lease length written on claim (default 30 s): how long a stuck holder blocks others. */
  readonly leaseMs?: number
  /** Fallback poll when no notification arrives (default 5 s). */
  readonly pollMs?: number
  /** Attempts before an event is dead-lettered (default 4). */
  readonly maxAttempts?: number
  /** First retry delay; each next one is 4× longer (default 500 ms: 0.5 s, 2 s, 8 s). */
  readonly retryBaseMs?: number
}

export interface Processor {
  start(): Promise<void>
  /** Lets the rounds in hand finish (and commit), releases leases, stops listening. */
  stop(): Promise<void>
  /** Runs rounds until no partition has due work (tests, tools); needs no start(). */
  drain(): Promise<void>
  isHealthy(): boolean
}

/** Database errors worth rerunning a round for: a lost race, not a bad event. */
const TRANSIENT = new Set(['40001', '40P01', '23505', '55P03'])
function isTransient(err: unknown): boolean {
  const code = (e: unknown) => String((e as { code?: unknown } | null)?.code ?? '')
  return TRANSIENT.has(code(err)) || TRANSIENT.has(code((err as { cause?: unknown } | null)?.cause))
}

const TRANSIENT_RETRIES = 3
const MAX_RERUNS = 5

/** idle: nothing was due; more: the round was full or skipped a dead letter; done: caught up. */
type Outcome = 'idle' | 'more' | 'done'

export function makeProcessor(opts: ProcessorOptions): Processor {
  const { db, clock, log } = opts
  const hooks = opts.hooks ?? []
  const workerId = opts.workerId ?? `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`
  const concurrency = opts.concurrency ?? (db.isShared ? 2 : 1)
  const batchSize = opts.batchSize ?? 500
  const partitionsPerRound = opts.partitionsPerRound ?? 32
  const leaseMs = opts.leaseMs ?? 30_000
  const pollMs = opts.pollMs ?? 5_000
  const maxAttempts = opts.maxAttempts ?? 4
  const retryBaseMs = opts.retryBaseMs ?? 500
  const plog = log.child({ component: 'processor', workerId })

  /**
   * One transaction. `failures` are events that failed in an earlier run of this round:
   * their partition stops just before them and the failure is recorded instead.
   */
  async function runRound(
    failures: ReadonlyMap<number, EventFailure>,
    gather: boolean,
    keepFollowUpsPending: ReadonlySet<number> | 'all',
    prefetch: boolean,
  ): Promise<Outcome> {
    return db.transaction(async (tx) => {
      const now = clock.now()
      const claimed = await claimPartitions(
        tx,
        workerId,
        partitionsPerRound,
        now,
        new Date(now.getTime() + leaseMs),
      )
      if (claimed.length === 0) return 'idle'
      // A statement of its own: its snapshot is taken once the leases are held, so it sees
      // what the partitions' previous holder committed (one statement with the claim would
      // read with a snapshot from before the lock, and process those events again).
      const events = await pendingEvents(tx, claimed, batchSize)
      const stopAt = new Map<number, number>()
      for (const e of events)
        if (failures.has(e.seq) && !stopAt.has(e.partition)) stopAt.set(e.partition, e.seq)
      const due = events.filter((e) => {
        const stop = stopAt.get(e.partition)
        return stop === undefined || e.seq < stop
      })
      const { done, tail } = await applyEvents(tx, due, now, {
        hooks,
        clock,
        log: plog,
        gather,
        keepFollowUpsPending,
        prefetch,
      })
      let more = events.length === batchSize
      for (const seq of stopAt.values()) {
        const event = events.find((e) => e.seq === seq)
        const failure = failures.get(seq)
        if (!event || !failure) continue
        const attempts = event.attempts + 1
        const dead = attempts >= maxAttempts
        const retryAt = dead ? null : new Date(now.getTime() + retryBaseMs * 4 ** (attempts - 1))
        await recordFailure(tx, event, failure.message, retryAt, now)
        const where = {
          seq,
          messageId: event.messageId,
          partition: event.partition,
          attempts,
          err: failure.cause,
        }
        if (dead) plog.error(where, `event dead-lettered after ${attempts} attempts: ${failure.message}`)
        else plog.warn({ ...where, retryAt }, `event failed, will retry: ${failure.message}`)
        if (retryAt) scheduleRetry(retryAt)
        else more = true
      }
      try {
        await finishRound(tx, done, claimed, workerId, now, tail)
      } catch (err) {
        // The round's gathered writes are in this statement: rerun the round event by event.
        throw tail ? new FlushFailure(err) : err
      }
      return more ? 'more' : 'done'
    })
  }

  /** A round, rerun after a lost race (transient) or to set a failing event aside. */
  async function round(): Promise<Outcome> {
    const failures = new Map<number, EventFailure>()
    // Events whose follow-ups failed in the round: they go to the log pending instead.
    const keepFollowUpsPending = new Set<number>()
    let allFollowUpsPending = false
    let transient = 0
    let gather = true
    let prefetch = true
    for (;;) {
      try {
        return await runRound(failures, gather, allFollowUpsPending ? 'all' : keepFollowUpsPending, prefetch)
      } catch (err) {
        if (transient < TRANSIENT_RETRIES && isTransient(err)) {
          transient++
          continue
        }
        if (err instanceof PrefetchFailure && prefetch) {
          plog.warn({ err: err.cause }, `${err.message}; the round is run again without prefetches`)
          prefetch = false
          continue
        }
        // The round's gathered writes failed: find the event to blame, writing event by event.
        if (err instanceof FlushFailure && gather) {
          gather = false
          continue
        }
        if (err instanceof FollowUpFailure && !allFollowUpsPending) {
          plog.warn(
            { seq: err.event.seq, messageId: err.event.messageId, err: err.cause },
            `${err.message}; its follow-ups are left for a later round`,
          )
          // Past a few such events, the round leaves every follow-up pending.
          if (keepFollowUpsPending.size >= MAX_RERUNS) allFollowUpsPending = true
          keepFollowUpsPending.add(err.event.seq)
          continue
        }
        if (err instanceof EventFailure && !failures.has(err.event.seq) && failures.size < MAX_RERUNS) {
          failures.set(err.event.seq, err)
          continue
        }
        throw err
      }
    }
  }

  // ---- scheduling -----------------------------------------------------------------
  // Rounds run in "lanes" (at most `concurrency`). A notification starts a lane if none
  // runs; a lane that found work starts another, so parallelism follows the load. A lane
  // stops after a round that found nothing, unless a notification came in meanwhile.
  let running = false
  let listening = false
  let failuresInARow = 0
  let unlisten: (() => Promise<void>) | null = null
  let timer: NodeJS.Timeout | null = null
  let nextRetry: number | null = null
  let notifications = 0
  const lanes = new Set<Promise<void>>()

  function scheduleRetry(at: Date): void {
    if (nextRetry === null || at.getTime() < nextRetry) nextRetry = at.getTime()
    armTimer()
  }

  function armTimer(): void {
    if (!running) return
    if (timer) clearTimeout(timer)
    let ms = failuresInARow > 0 ? Math.min(pollMs, 250 * 2 ** failuresInARow) : pollMs
    if (nextRetry !== null) ms = Math.max(0, Math.min(ms, nextRetry - clock.now().getTime()))
    timer = setTimeout(() => {
      timer = null
      if (nextRetry !== null && nextRetry <= clock.now().getTime()) nextRetry = null
      wake()
      armTimer()
    }, ms)
    timer.unref?.()
  }

  function wake(): void {
    notifications++
    if (running && lanes.size === 0) startLane()
  }

  function startLane(): void {
    const lane: Promise<void> = runLane().finally(() => lanes.delete(lane))
    lanes.add(lane)
  }

  async function runLane(): Promise<void> {
    while (running) {
      const seen = notifications
      let outcome: Outcome
      try {
        outcome = await round()
        failuresInARow = 0
      } catch (err) {
        failuresInARow++
        plog.error({ err }, 'a processing round failed; retrying after a pause')
        armTimer()
        return
      }
      if (outcome !== 'idle' && lanes.size < concurrency) startLane()
      if (outcome === 'idle' && notifications === seen) return
    }
  }

  return {
    async start() {
      if (running) return
      running = true
      try {
        unlisten = await db.listen(EVENTS_CHANNEL, wake)
        listening = true
      } catch (err) {
        plog.warn({ err }, 'cannot listen for new events; falling back to polling')
      }
      armTimer()
      wake()
      plog.info({ concurrency, batchSize }, 'processor started')
    },

    async stop() {
      if (!running) return
      running = false
      if (timer) clearTimeout(timer)
      timer = null
      await Promise.all(lanes)
      await releasePartitions(db, 'all', workerId, clock.now()).catch((err) => {
        plog.warn({ err }, 'releasing leases failed; they expire on their own')
      })
      await unlisten?.().catch(() => {})
      listening = false
      plog.info('processor stopped')
    },

    async drain() {
      while ((await round()) !== 'idle') {}
    },

    isHealthy() {
      return running && listening && failuresInARow < 3
    },
  }
}
