// The HTTP surface: ingest (/v1), admin API (/api/v1), health. Each area is a
// plugin that receives its dependencies as arguments.
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify'
import { type Clock, systemClock } from '../domain/clock.ts'
import { NudgeError } from '../domain/errors.ts'
import type { Logger } from '../log.ts'
import { type IngestBuffer, makeIngestBuffer } from '../runtime/ingest-buffer.ts'
import type { Db } from '../store/db.ts'
import { adminApi } from './admin/plugin.ts'
import { type KeyResolver, makeKeyResolver } from './auth.ts'
import { ingestPlugin } from './ingest.ts'
import { installOpenApi } from './openapi.ts'
import { publicRoutes } from './public/index.ts'

export interface AppDeps {
  readonly db: Db
  readonly log: Logger
  /** Reports whether background parts (processor) are healthy; readiness uses it. */
  readonly isReady?: () => boolean
  /** Write/admin key lookup; defaults to a cached resolver over `db`. */
  readonly keys?: KeyResolver
  /** Group commit for ingested events; defaults to one over `db`. */
  readonly ingest?: IngestBuffer
  /** Stamps receivedAt on ingested events; times links, tracking and replies. */
  readonly clock?: Clock
  /** Data folder of this process: the admin API lists its local mailbox. */
  readonly dataDir?: string
  /** Server-wide channel settings (see AdminDeps). */
  readonly channelDefaults?: Readonly<Record<string, unknown>>
  /** Public URL of this Nudge: links in template previews and test sends. */
  readonly publicUrl?: string
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.log as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 512 * 1024,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    // Signed link tokens (a click token carries its target URL) are longer than the default 100.
    routerOptions: { maxParamLength: 4096 },
  })

  app.setErrorHandler((err, req, reply) => {
    if (err instanceof NudgeError) return reply.status(err.status).send(err.toJSON())
    const e = err as { statusCode?: number; code?: string; message: string }
    if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) {
      const code =
        e.statusCode === 413
          ? 'NUDGE_ERR_BATCH_TOO_LARGE'
          : e.statusCode === 415
            ? 'NUDGE_ERR_UNSUPPORTED_MEDIA'
            : e.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || e.code === 'FST_ERR_CTP_EMPTY_JSON_BODY'
              ? 'NUDGE_ERR_INVALID_JSON'
              : 'NUDGE_ERR_VALIDATION'
      return reply.status(e.statusCode).send(new NudgeError(code, e.message).toJSON())
    }
    req.log.error({ err }, 'unhandled error')
    return reply
      .status(500)
      .send({ error: { code: 'NUDGE_ERR_INTERNAL', message: 'Internal error; see the server log' } })
  })

  // First, so that the routes of every plugin registered below are documented.
  installOpenApi(app, {
    title: 'Nudge',
    version: '0.1.0',
    description: 'Admin API (Bearer admin key) and Segment-compatible ingest (write key).',
  })
  const keys = deps.keys ?? makeKeyResolver(deps.db)
  await app.register(adminApi, {
    db: deps.db,
    keys,
    clock: deps.clock ?? systemClock,
    ...(deps.dataDir ? { dataDir: deps.dataDir } : {}),
    ...(deps.channelDefaults ? { channelDefaults: deps.channelDefaults } : {}),
    ...(deps.publicUrl ? { publicUrl: deps.publicUrl } : {}),
  })
  // A server runs several writes at once on its pool (each one still a group commit); the
  // embedded database has one connection.
  const buffer =
    deps.ingest ??
    makeIngestBuffer({ db: deps.db, log: deps.log, maxConcurrentWrites: deps.db.isShared ? 4 : 1 })
  // Closing the app (before the database): the NOTIFY an interval still holds back goes out.
  app.addHook('onClose', async () => {
    await buffer.close?.()
  })
  await app.register(ingestPlugin, { keys, buffer, clock: deps.clock ?? systemClock })

  app.get('/healthz', async () => ({ ok: true }))
  app.get('/readyz', async (_req, reply) => {
    try {
      await deps.db.query('SELECT 1')
    } catch {
      return reply.status(503).send({ ok: false, reason: 'database unreachable' })
    }
    if (deps.isReady && !deps.isReady())
      return reply.status(503).send({ ok: false, reason: 'workers not ready' })
    return { ok: true }
  })

  // Member-facing pages, tracking, in-app API and widget, inbound replies.
  await app.register(async (scope) =>
    publicRoutes(scope, {
      db: deps.db,
      log: deps.log,
      clock: deps.clock ?? systemClock,
      ...(deps.publicUrl ? { publicUrl: deps.publicUrl } : {}),
    }),
  )

  return app
}
