// The shape every background worker shares: do a pass of work; when there was none,
// sleep until the next known due time, a NOTIFY on `channel`, or `maxSleepMs`.
import type { Clock } from '../domain/clock.ts'
import type { Logger } from '../log.ts'
import type { Db } from '../store/db.ts'

export interface LoopOptions {
  readonly name: string
  readonly db: Db
  readonly clock: Clock
  readonly log: Logger
  /** NOTIFY channel that signals new work. */
  readonly channel: string
  /** Does one batch of work; returns how many items it handled. */
  readonly pass: () => Promise<number>
  /** When the next item becomes due, if known. */
  readonly nextAt: () => Promise<Date | null>
  readonly maxSleepMs: number
}

export interface Loop {
  start(): Promise<void>
  stop(): Promise<void>
  /** Wakes the loop now (new work was added in this process). */
  poke(): void
  readonly healthy: boolean
}

/** The least a loop waits after a pass that found nothing. */
const IDLE_RETRY_MS = 10

export function makeLoop(opts: LoopOptions): Loop {
  const { db, clock, log } = opts
  let running = false
  let healthy = true
  let pending = false
  let loop: Promise<void> | undefined
  let wake: (() => void) | undefined
  let unlisten: (() => Promise<void>) | undefined

  const poke = () => {
    pending = true
    wake?.()
  }
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      if (pending) return resolve()
      const t = setTimeout(done, ms)
      function done() {
        clearTimeout(t)
        wake = undefined
        resolve()
      }
      wake = done
    })

  return {
    get healthy() {
      return healthy
    },
    poke,
    async start() {
      if (running) return
      running = true
      if (db.canListen) unlisten = await db.listen(opts.channel, poke)
      loop = (async () => {
        while (running) {
          try {
            pending = false
            const n = await opts.pass()
            healthy = true
            if (n > 0 || !running) continue
            const next = await opts.nextAt()
            const delay = next ? next.getTime() - clock.now().getTime() : opts.maxSleepMs
            // A pass that found nothing while the next item is said to be due (another worker
            // holds it, or the estimate is a moment early) waits a little, not spinning.
            await sleep(Math.min(Math.max(delay, IDLE_RETRY_MS), opts.maxSleepMs))
          } catch (err) {
            healthy = false
            log.error({ err, loop: opts.name }, 'worker pass failed')
            await sleep(1000)
          }
        }
      })()
    },
    async stop() {
      running = false
      wake?.()
      await loop
      await unlisten?.()
    },
  }
}
