// The scheduler: fires due timers. A chunk of timers is handled in one transaction that
// also deletes them, so a timer's effects happen once even if a worker dies mid-batch
// (its lease runs out and another worker claims the timer again). Kinds with a batch
// handler fire a whole chunk set-based; if that attempt fails, the chunk is fired again
// timer by timer, each under its own savepoint, so a bad timer fails alone.
import type { Clock } from '../domain/clock.ts'
import type { Logger } from '../log.ts'
import type { Db, Tx } from '../store/db.ts'
import {
  type ClaimedTimer,
  claimDueTimers,
  completeTimer,
  completeTimers,
  nextTimerAt,
  postponeTimer,
  releaseTimers,
  retryTimer,
  TIMERS_CHANNEL,
} from '../store/timers.ts'
import { makeLoop } from './loop.ts'

/** Handles a due timer in `tx`; returning `{ postponeTo }` keeps the timer for later instead of deleting it. */
export type TimerHandler = (tx: Tx, timer: ClaimedTimer, now: Date) => Promise<void | { postponeTo: Date }>

/**
 * Handles many due timers of one kind in `tx`, each of a different profile, set-based;
 * returns one outcome per timer, in order. Throwing fails the attempt: the chunk is then
 * fired timer by timer through the kind's TimerHandler, which must do the same work.
 */
export type BatchTimerHandler = (
  tx: Tx,
  timers: readonly ClaimedTimer[],
  now: Date,
) => Promise<ReadonlyArray<{ postponeTo: Date } | undefined>>

export interface SchedulerOptions {
  readonly db: Db
  readonly clock: Clock
  readonly log: Logger
  readonly workerId: string
  readonly handlers: Readonly<Record<string, TimerHandler>>
  /** Set-based handlers for some kinds (each kind also needs its handler above). */
  readonly batchHandlers?: Readonly<Record<string, BatchTimerHandler>>
  readonly batchSize?: number
  readonly leaseMs?: number
  /** Timers handled at once (each in its own transaction). */
  readonly concurrency?: number
  /** Timers fired in one transaction. */
  readonly chunkSize?: number
  /** Longest sleep between passes, so expired leases of dead workers are noticed. */
  readonly maxSleepMs?: number
}

export interface Scheduler {
  start(): Promise<void>
  stop(): Promise<void>
  /** Fires every timer due at clock.now(), until none is left (tests, simulator). */
  drain(): Promise<number>
}

class LeaseLost extends Error {}

const MAX_ATTEMPTS = 10

export function backoffMs(attempt: number): number {
  return Math.min(60 * 60_000, 1000 * 2 ** attempt)
}

export function makeScheduler(opts: SchedulerOptions): Scheduler {
  const { db, clock, log, workerId, handlers } = opts
  const batchHandlers = opts.batchHandlers ?? {}
  const batchSize = opts.batchSize ?? 1000
  const leaseMs = opts.leaseMs ?? 30_000
  const concurrency = opts.concurrency ?? (db.isShared ? 4 : 1)
  const maxSleepMs = opts.maxSleepMs ?? 5_000
  const chunkSize = opts.chunkSize ?? 200

  async function recordFailure(timer: ClaimedTimer, err: unknown, now: Date): Promise<void> {
    const attempts = timer.attempts + 1
    log.error({ err, timerId: timer.timerId, kind: timer.kind, attempts }, 'timer failed')
    const retryAt = new Date(now.getTime() + (attempts >= MAX_ATTEMPTS ? 24 * 3600_000 : backoffMs(attempts)))
    await retryTimer(db, timer, err instanceof Error ? err.message : String(err), retryAt).catch(() => {})
  }

  /** Runs the handler; true when the timer is done (delete it), false when it was postponed. */
  async function handle(tx: Tx, timer: ClaimedTimer, now: Date): Promise<boolean> {
    const handler = handlers[timer.kind]
    if (!handler) {
      log.warn({ kind: timer.kind, timerId: timer.timerId }, 'timer of unknown kind dropped')
      return true
    }
    const out = await handler(tx, timer, now)
    if (!out) return true
    if (!(await postponeTimer(tx, timer, out.postponeTo))) throw new LeaseLost()
    return false
  }

  /** One timer, one transaction: the careful path. */
  async function fireOne(timer: ClaimedTimer): Promise<boolean> {
    const now = clock.now()
    try {
      await db.transaction(async (tx) => {
        if ((await handle(tx, timer, now)) && !(await completeTimer(tx, timer))) throw new LeaseLost()
      })
      return true
    } catch (err) {
      if (!(err instanceof LeaseLost)) await recordFailure(timer, err, now)
      return false
    }
  }

  /**
   * The fast attempt at a chunk, in one transaction: timers of a batch kind whose profile
   * has no other timer in the chunk go to their batch handler; the others (in lane order)
   * to their handler. Throws if any timer fails; null when the chunk has nothing to batch.
   */
  async function fireBatched(timers: readonly ClaimedTimer[], now: Date): Promise<number | null> {
    const perProfile = new Map<string, number>()
    const profileOf = (t: ClaimedTimer) => `${t.workspaceId}/${t.profileId}`
    for (const t of timers) perProfile.set(profileOf(t), (perProfile.get(profileOf(t)) ?? 0) + 1)
    const byKind = new Map<string, ClaimedTimer[]>()
    const rest: ClaimedTimer[] = []
    for (const t of timers) {
      if (batchHandlers[t.kind] && perProfile.get(profileOf(t)) === 1) {
        const group = byKind.get(t.kind)
        if (group) group.push(t)
        else byKind.set(t.kind, [t])
      } else rest.push(t)
    }
    if (byKind.size === 0) return null
    return db.transaction(async (tx) => {
      const done: ClaimedTimer[] = []
      let postponed = 0
      const settle = async (t: ClaimedTimer, out: { postponeTo: Date } | undefined) => {
        if (!out) done.push(t)
        else if (await postponeTimer(tx, t, out.postponeTo)) postponed++
        else throw new LeaseLost()
      }
      for (const [kind, group] of byKind) {
        const outs = await (batchHandlers[kind] as BatchTimerHandler)(tx, group, now)
        for (const [i, t] of group.entries()) await settle(t, outs[i])
      }
      for (const t of rest) if (await handle(tx, t, now)) done.push(t)
      if ((await completeTimers(tx, done)) !== done.length) throw new LeaseLost()
      return done.length + postponed
    })
  }

  /**
   * Many timers in one transaction (one commit instead of one each): set-based when the
   * kinds allow, else (or when that fails) each under its own savepoint so a failing
   * timer is rolled back alone. If any lease was lost the whole chunk is rolled back and
   * retried one by one.
   */
  async function fireChunk(timers: readonly ClaimedTimer[]): Promise<number> {
    if (timers.length === 1) return (await fireOne(timers[0]!)) ? 1 : 0
    const now = clock.now()
    try {
      const fired = await fireBatched(timers, now)
      if (fired !== null) return fired
    } catch (err) {
      if (err instanceof LeaseLost) return fireOneByOne(timers)
      log.warn({ err }, 'batched timer chunk failed; firing its timers one by one')
    }
    const failed: Array<{ timer: ClaimedTimer; err: unknown }> = []
    try {
      const fired = await db.transaction(async (tx) => {
        const ok: ClaimedTimer[] = []
        let postponed = 0
        for (const t of timers) {
          await tx.exec('SAVEPOINT timer')
          try {
            const done = await handle(tx, t, now)
            await tx.exec('RELEASE SAVEPOINT timer')
            if (done) ok.push(t)
            else postponed++
          } catch (err) {
            await tx.exec('ROLLBACK TO SAVEPOINT timer')
            failed.push({ timer: t, err })
          }
        }
        if ((await completeTimers(tx, ok)) !== ok.length) throw new LeaseLost()
        return ok.length + postponed
      })
      for (const f of failed) await recordFailure(f.timer, f.err, now)
      return fired
    } catch (err) {
      if (!(err instanceof LeaseLost)) log.warn({ err }, 'timer chunk failed; firing one by one')
      return fireOneByOne(timers)
    }
  }

  async function fireOneByOne(timers: readonly ClaimedTimer[]): Promise<number> {
    let fired = 0
    for (const t of timers) if (await fireOne(t)) fired++
    return fired
  }

  async function pass(): Promise<number> {
    const timers = await claimDueTimers(db, workerId, clock.now(), batchSize, leaseMs)
    if (timers.length === 0) return 0
    // Timers of one profile stay together and in order; chunks run side by side.
    const lanes = new Map<string, ClaimedTimer[]>()
    for (const t of timers) {
      const k = `${t.workspaceId}/${t.profileId}`
      const lane = lanes.get(k)
      if (lane) lane.push(t)
      else lanes.set(k, [t])
    }
    const chunks: ClaimedTimer[][] = []
    let chunk: ClaimedTimer[] = []
    for (const lane of lanes.values()) {
      chunk.push(...lane)
      if (chunk.length >= chunkSize) {
        chunks.push(chunk)
        chunk = []
      }
    }
    if (chunk.length) chunks.push(chunk)
    let fired = 0
    const worker = async () => {
      for (let c = chunks.shift(); c; c = chunks.shift()) {
        // Read `fired` only after the await: `fired += await x` would lose updates.
        const n = await fireChunk(c)
        fired += n
      }
    }
    await Promise.all(Array.from({ length: Math.min(concurrency, chunks.length) }, worker))
    return fired
  }

  const loop = makeLoop({
    name: 'scheduler',
    db,
    clock,
    log,
    channel: TIMERS_CHANNEL,
    pass,
    nextAt: () => nextTimerAt(db),
    maxSleepMs,
  })

  return {
    start: () => loop.start(),
    async stop() {
      await loop.stop()
      await releaseTimers(db, workerId).catch(() => {})
    },
    async drain() {
      let total = 0
      for (let n = await pass(); n > 0; n = await pass()) total += n
      return total
    },
  }
}
