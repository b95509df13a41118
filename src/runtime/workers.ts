// The background side of a process, wired in one place: the events processor with its
// hooks (community model, segments, journeys, ...), the scheduler with its timer handlers, and the dispatcher. The
// server and the tests build the same thing; tests drive it step by step with drain().
import { randomUUID } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Clock } from '../domain/clock.ts'
import type { Logger } from '../log.ts'
import type { Db } from '../store/db.ts'
import { inAppInbox } from '../store/in-app.ts'
import { makeCommunityHook } from './community/hook.ts'
import { JOB_TIMER, makeJobTimer } from './community/jobs.ts'
import { communityTimers } from './community/timers.ts'
import { makeChannelPool } from './dispatch/channel-pool.ts'
import { type Dispatcher, type DispatcherOptions, makeDispatcher } from './dispatcher.ts'
import type { ProcessorHook } from './hooks.ts'
import { type JourneyCatalog, makeJourneyCatalog } from './journeys/catalog.ts'
import { makeJourneyRuntime } from './journeys/runtime.ts'
import { makeProcessor, type Processor } from './processor.ts'
import { makeScheduler, type Scheduler, type SchedulerOptions } from './scheduler.ts'
import { makeSegmentsHook } from './segments/hook.ts'
import { segmentTimers } from './segments/timers.ts'

export interface WorkersOptions {
  readonly db: Db
  readonly clock: Clock
  readonly log: Logger
  readonly workerId?: string
  /** Extra hooks after the built-in ones. */
  readonly hooks?: readonly ProcessorHook[]
  readonly sending?: SendingOptions
  /** Scheduler tuning (defaults suit production; crash tests shorten the lease). */
  readonly scheduler?: Pick<
    SchedulerOptions,
    'leaseMs' | 'batchSize' | 'concurrency' | 'chunkSize' | 'maxSleepMs'
  >
}

/** How the dispatcher reaches channels. */
export interface SendingOptions {
  /** The local mailbox (email without NUDGE_SMTP_URL) lives in `<dataDir>/mailbox`. */
  readonly dataDir: string
  /** Process-wide channel settings: NUDGE_SMTP_URL, NUDGE_EMAIL_FROM. */
  readonly env?: Readonly<Record<string, string | undefined>>
  readonly publicUrl?: string
  readonly inboundDomain?: string
  readonly fetch?: typeof fetch
  readonly dispatcher?: Partial<
    Pick<DispatcherOptions, 'retry' | 'random' | 'batchSize' | 'leaseMs' | 'concurrency' | 'maxRateWaitMs'>
  >
}

export interface Workers {
  readonly processor: Processor
  readonly scheduler: Scheduler
  readonly dispatcher: Dispatcher
  readonly catalog: JourneyCatalog
  start(): Promise<void>
  stop(): Promise<void>
  /** Processes events, fires due timers and dispatches due messages until none has work left (tests). */
  drain(): Promise<void>
  isHealthy(): boolean
}

export async function makeWorkers(opts: WorkersOptions): Promise<Workers> {
  const { db, clock, log } = opts
  const workerId = opts.workerId ?? `${process.pid}-${randomUUID().slice(0, 8)}`
  const catalog = await makeJourneyCatalog(db)
  const journeys = makeJourneyRuntime({ catalog, clock, log })
  // The community model first (segments may ask for a stage, score or badge), then segments,
  // then journeys: each sees what the same event changed before it.
  const hooks = [makeCommunityHook(log), makeSegmentsHook(), journeys.hook, ...(opts.hooks ?? [])]
  const processor = makeProcessor({ db, clock, log, workerId, hooks })
  const scheduler = makeScheduler({
    ...opts.scheduler,
    db,
    clock,
    log,
    workerId,
    handlers: { ...communityTimers, [JOB_TIMER]: makeJobTimer(log), ...segmentTimers, ...journeys.timers },
    batchHandlers: journeys.batchTimers,
  })
  const sending = opts.sending ?? { dataDir: join(tmpdir(), `nudge-${process.pid}`) }
  const channels = makeChannelPool(
    {
      clock,
      dataDir: sending.dataDir,
      inAppInbox: inAppInbox(db),
      ...(sending.fetch ? { fetch: sending.fetch } : {}),
    },
    sending.env ?? {},
  )
  const dispatcher = makeDispatcher({
    db,
    clock,
    log,
    workerId,
    channels,
    publicUrl: sending.publicUrl ?? 'http://localhost:3000',
    ...(sending.inboundDomain ? { inboundDomain: sending.inboundDomain } : {}),
    ...sending.dispatcher,
  })
  return {
    processor,
    scheduler,
    dispatcher,
    catalog,
    async start() {
      await processor.start()
      await scheduler.start()
      await dispatcher.start()
    },
    async stop() {
      await dispatcher.stop()
      await scheduler.stop()
      await processor.stop()
      await channels.close()
      await catalog.close()
    },
    async drain() {
      for (let round = 0; round < 1000; round++) {
        await processor.drain()
        const fired = await scheduler.drain()
        const sent = await dispatcher.drain()
        if (fired === 0 && sent === 0) {
          // Delivery results are events too: let journeys react, then check nothing new is due.
          await processor.drain()
          if ((await dispatcher.drain()) === 0) return
        }
      }
      throw new Error('drain: still busy after 1000 rounds (a timer or message loop?)')
    },
    isHealthy: () => processor.isHealthy(),
  }
}
