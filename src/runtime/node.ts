// One Nudge process: opens the database, migrates, creates the default workspace,
// then runs the API and/or the workers according to its role, until told to stop.
import type { FastifyInstance } from 'fastify'
import type { Config } from '../config.ts'
import { type Clock, systemClock } from '../domain/clock.ts'
import { buildApp } from '../http/app.ts'
import type { Logger } from '../log.ts'
import type { Db } from '../store/db.ts'
import { migrate } from '../store/migrate.ts'
import { openDb } from '../store/open.ts'
import { type CreatedKey, ensureDefaultWorkspace } from '../store/workspaces.ts'
import { applyConfigChannels } from './config-channels.ts'
import { channelDefaults } from './dispatch/channel-pool.ts'
import type { ProcessorHook } from './hooks.ts'
import { startInboundSmtp } from './inbound-smtp.ts'
import type { Processor } from './processor.ts'
import { makeWorkers, type Workers } from './workers.ts'

export interface RunningNode {
  readonly db: Db
  readonly app: FastifyInstance | undefined
  readonly url: string | undefined
  /** The inbound SMTP listener's port, when it runs. */
  readonly inboundSmtpPort: number | undefined
  readonly generatedKeys: readonly CreatedKey[]
  /** The events processor, when the role runs workers (worker, all). */
  readonly processor: Processor | undefined
  stop(): Promise<void>
}

export interface NodeOptions {
  /** What later features (journeys, segments, scores, stages) hang on the processor. */
  readonly hooks?: readonly ProcessorHook[]
  readonly clock?: Clock
}

export async function startNode(config: Config, log: Logger, opts: NodeOptions = {}): Promise<RunningNode> {
  const db = await openDb(config)
  const applied = await migrate(db)
  if (applied.length) log.info({ applied }, 'migrations applied')
  const boot = await db.transaction((tx) =>
    ensureDefaultWorkspace(tx, { writeKey: config.NUDGE_WRITE_KEY, adminKey: config.NUDGE_ADMIN_KEY }),
  )
  if (config.file) {
    try {
      const applied = await applyConfigChannels(db, config.file, (opts.clock ?? systemClock).now())
      if (applied.length)
        log.info({ file: config.file.path, applied }, 'channel settings applied from the config file')
    } catch (err) {
      await db.close()
      throw err
    }
  }

  const stoppers: Array<() => Promise<void>> = []
  const sendingEnv = { NUDGE_SMTP_URL: config.NUDGE_SMTP_URL, NUDGE_EMAIL_FROM: config.NUDGE_EMAIL_FROM }
  const workers: Workers | undefined =
    config.NUDGE_ROLE === 'api'
      ? undefined
      : await makeWorkers({
          db,
          clock: opts.clock ?? systemClock,
          log,
          hooks: opts.hooks ?? [],
          sending: {
            dataDir: config.NUDGE_DATA_DIR,
            env: sendingEnv,
            publicUrl: config.NUDGE_PUBLIC_URL ?? `http://localhost:${config.PORT}`,
            ...(config.NUDGE_INBOUND_DOMAIN ? { inboundDomain: config.NUDGE_INBOUND_DOMAIN } : {}),
          },
        })
  const processor = workers?.processor
  let app: FastifyInstance | undefined
  let url: string | undefined
  if (config.NUDGE_ROLE !== 'worker') {
    app = await buildApp({
      db,
      log,
      dataDir: config.NUDGE_DATA_DIR,
      channelDefaults: channelDefaults(sendingEnv),
      publicUrl: config.NUDGE_PUBLIC_URL ?? `http://localhost:${config.PORT}`,
      ...(workers ? { isReady: () => workers.isHealthy() } : {}),
    })
  }
  if (workers) {
    await workers.start()
    // After the HTTP server: requests in flight may still be writing events.
    stoppers.push(() => workers.stop())
  }
  if (app) {
    const address = await app.listen({ port: config.PORT, host: config.HOST })
    url = address.replace('0.0.0.0', 'localhost').replace('[::]', 'localhost')
    const server = app
    stoppers.unshift(() => server.close())
  }

  let inboundSmtpPort: number | undefined
  if (config.NUDGE_INBOUND_SMTP_PORT !== undefined && config.NUDGE_ROLE !== 'worker') {
    const smtp = await startInboundSmtp({
      db,
      clock: systemClock,
      log,
      port: config.NUDGE_INBOUND_SMTP_PORT,
      host: config.HOST,
    })
    inboundSmtpPort = smtp.port
    stoppers.unshift(() => smtp.close())
  }

  let stopping: Promise<void> | undefined
  return {
    db,
    app,
    url,
    inboundSmtpPort,
    generatedKeys: boot.generated,
    processor,
    stop() {
      stopping ??= (async () => {
        // API first (finish in-flight requests), then workers release their leases, then the database.
        for (const s of stoppers) await s()
        await db.close()
      })()
      return stopping
    },
  }
}
