// The background side of a process, wired in one place: the events processor with its
// hooks (community model, then journeys, ...), the scheduler with its timer handlers, and the dispatcher. The
// server and the tests build the same thing; tests drive it step by step with drain().
import { randomUUID } from 'node:crypto'
import type { Clock } from '../domain/clock.ts'
import type { Logger } from '../log.ts'
import type { Db } from '../store/db.ts'
import { makeCommunityHook } from './community/hook.ts'
import { communityTimers } from './community/timers.ts'
import type { ProcessorHook } from './hooks.ts'
import { type JourneyCatalog, makeJourneyCatalog } from './journeys/catalog.ts'
import { makeJourneyRuntime } from './journeys/runtime.ts'
import { makeProcessor, type Processor } from './processor.ts'
import { makeScheduler, type Scheduler } from './scheduler.ts'

export interface WorkersOptions {
  readonly db: Db
  readonly clock: Clock
  readonly log: Logger
  readonly workerId?: string
  /** Extra hooks after the built-in ones. */
  readonly hooks?: readonly ProcessorHook[]
}

export interface Workers {
  readonly processor: Processor
  readonly scheduler: Scheduler
  readonly catalog: JourneyCatalog
  start(): Promise<void>
  stop(): Promise<void>
  /** Processes events and fires due timers until neither has work left (tests, simulator). */
  drain(): Promise<void>
  isHealthy(): boolean
}

export async function makeWorkers(opts: WorkersOptions): Promise<Workers> {
  const { db, clock, log } = opts
  const workerId = opts.workerId ?? `${process.pid}-${randomUUID().slice(0, 8)}`
  const catalog = await makeJourneyCatalog(db)
  const journeys = makeJourneyRuntime({ catalog, clock, log })
  const processor = makeProcessor({
    db,
    clock,
    log,
    workerId,
    hooks: [makeCommunityHook(log), journeys.hook, ...(opts.hooks ?? [])],
  })
  const scheduler = makeScheduler({
    db,
    clock,
    log,
    workerId,
    handlers: { ...communityTimers, ...journeys.timers },
  })
  return {
    processor,
    scheduler,
    catalog,
    async start() {
      await processor.start()
      await scheduler.start()
    },
    async stop() {
      await scheduler.stop()
      await processor.stop()
      await catalog.close()
    },
    async drain() {
      for (let round = 0; round < 1000; round++) {
        await processor.drain()
        const fired = await scheduler.drain()
        if (fired === 0) {
          await processor.drain()
          return
        }
      }
      throw new Error('drain: still busy after 1000 rounds (a timer loop?)')
    },
    isHealthy: () => processor.isHealthy(),
  }
}
