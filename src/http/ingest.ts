// The Segment HTTP Tracking API: POST /v1/identify|track|page|screen|group|alias,
// /v1/batch and /v1/import. Answers what Segment's SDKs expect: 200 {success:true}
// once the events are committed; 4xx for bad input (never retried by the SDKs);
// 503 when they could not be stored (retried).
import { randomUUID } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { z } from 'zod'
import type { Clock } from '../domain/clock.ts'
import { NudgeError } from '../domain/errors.ts'
import { MAX_EVENT_BYTES, MAX_REQUEST_BYTES } from '../domain/events/limits.ts'
import { type NormalizeContext, normalizeBatch, normalizeEvent } from '../domain/events/normalize.ts'
import { BatchEnvelope, callSchemas } from '../domain/events/segment.ts'
import { EVENT_TYPES, type EventType } from '../domain/events/types.ts'
import type { IngestBuffer } from '../runtime/ingest-buffer.ts'
import type { KeyInfo } from '../store/workspaces.ts'
import { basicUser, type KeyResolver } from './auth.ts'
import { type IngestBody, parseIngestBody, tooLarge } from './ingest/body.ts'
import type { RouteSpec } from './openapi.ts'

export interface IngestDeps {
  readonly keys: KeyResolver
  readonly buffer: IngestBuffer
  readonly clock: Clock
}

export async function ingestPlugin(app: FastifyInstance, deps: IngestDeps): Promise<void> {
  // Any content type is read as JSON: browsers' sendBeacon posts text/plain and
  // curl -d posts form-encoded, both with a JSON body.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser(
    '*',
    { parseAs: 'buffer', bodyLimit: MAX_REQUEST_BYTES },
    async (req: FastifyRequest, raw: Buffer) => parseIngestBody(raw, req.headers['content-encoding']),
  )

  app.setErrorHandler((err, _req, reply) => {
    if (err instanceof NudgeError) {
      if (err.status === 503) reply.header('retry-after', '1')
      return reply.status(err.status).send(err.toJSON())
    }
    if ((err as { code?: string }).code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      const e = tooLarge()
      return reply.status(e.status).send(e.toJSON())
    }
    throw err
  })

  // A wrong key in the Authorization header is refused before the body is read; the
  // key it resolved to is kept for the handler, which then needs no second lookup.
  const headerKeys = new WeakMap<FastifyRequest, KeyInfo>()
  app.addHook('onRequest', async (req) => {
    const secret = basicUser(req.headers.authorization)
    if (!secret) return
    const key = await deps.keys.resolve(secret, 'write')
    if (!key) throw await refusal(deps.keys, secret)
    headerKeys.set(req, key)
  })

  const authenticate = async (req: FastifyRequest, body: unknown): Promise<KeyInfo> => {
    const fromHeader = headerKeys.get(req)
    if (fromHeader) return fromHeader
    const fromBody =
      typeof body === 'object' &&
      body !== null &&
      typeof (body as { writeKey?: unknown }).writeKey === 'string'
        ? (body as { writeKey: string }).writeKey
        : undefined
    const secret = basicUser(req.headers.authorization) || fromBody
    const key = secret ? await deps.keys.resolve(secret, 'write') : undefined
    if (!key) throw await refusal(deps.keys, secret)
    return key
  }

  const context = async (req: FastifyRequest): Promise<{ body: IngestBody; ctx: NormalizeContext }> => {
    const body = req.body as IngestBody | undefined
    if (!body) throw new NudgeError('NUDGE_ERR_INVALID_JSON', 'The body is empty; send a JSON event')
    const key = await authenticate(req, body.value)
    const ctx: NormalizeContext = {
      workspaceId: key.workspaceId,
      receivedAt: deps.clock.now(),
      newMessageId: randomUUID,
      smallRequest: body.bytes <= MAX_EVENT_BYTES,
      plainText: body.plainText,
    }
    return { body, ctx }
  }

  const single = (type: EventType) => async (req: FastifyRequest, reply: FastifyReply) => {
    const { body, ctx } = await context(req)
    const r = normalizeEvent(body.value, type, ctx)
    if (!r.ok) throw new NudgeError(r.code, `The ${type} call is invalid`, r.issues)
    await deps.buffer.submit([r.event], body.bytes)
    return reply.send({ success: true })
  }

  const batch = async (req: FastifyRequest, reply: FastifyReply) => {
    const { body, ctx } = await context(req)
    const r = normalizeBatch(body.value, ctx)
    if (!r.ok) throw new NudgeError('NUDGE_ERR_VALIDATION', 'The body is not a valid batch', r.issues)
    if (r.events.length === 0 && r.rejected.length > 0)
      throw new NudgeError(
        'NUDGE_ERR_VALIDATION',
        'Every event in the batch is invalid; nothing was stored',
        r.rejected.flatMap((x) => x.issues),
      )
    const { duplicates } = await deps.buffer.submit(r.events, body.bytes)
    return reply.send({
      success: true,
      ...(r.rejected.length ? { rejected: r.rejected } : {}),
      ...(duplicates ? { duplicates } : {}),
    })
  }

  // Bodies are decoded and validated by the handlers (gzip, size limits, partial batches);
  // the specs only document the routes in /api/openapi.json.
  for (const type of EVENT_TYPES) {
    app.post(
      `/v1/${type}`,
      { config: { openapi: ingestSpec(`/v1/${type}`, type, callSchemas[type]) } },
      single(type),
    )
  }
  app.post('/v1/batch', { config: { openapi: ingestSpec('/v1/batch', 'batch', BatchEnvelope) } }, batch)
  app.post('/v1/import', { config: { openapi: ingestSpec('/v1/import', 'import', BatchEnvelope) } }, batch)
}

async function refusal(keys: KeyResolver, secret: string | undefined): Promise<NudgeError> {
  if (!secret) return new NudgeError('NUDGE_ERR_WRITE_KEY_REQUIRED')
  if (await keys.resolve(secret, 'admin'))
    return new NudgeError(
      'NUDGE_ERR_WRITE_KEY_REQUIRED',
      'This is an admin key; events are sent with a write key (HTTP Basic user, or writeKey in the body)',
    )
  return new NudgeError(
    'NUDGE_ERR_WRITE_KEY_REQUIRED',
    'This write key is unknown or revoked; send a valid one as the HTTP Basic user, or as writeKey in the body',
  )
}

const IngestAnswer = z.object({
  success: z.literal(true),
  rejected: z
    .array(
      z.object({
        index: z.number().int(),
        code: z.string(),
        issues: z.array(z.object({ path: z.string(), message: z.string() })),
      }),
    )
    .optional(),
  duplicates: z
    .number()
    .int()
    .optional()
    .describe('events not stored again: their messageId was already in the log, or earlier in this batch'),
})

function ingestSpec(path: string, name: string, body: z.ZodType): RouteSpec<undefined, undefined, z.ZodType> {
  const batch = name === 'batch' || name === 'import'
  return {
    method: 'POST',
    path,
    operationId: `ingest${name[0]!.toUpperCase()}${name.slice(1)}`,
    summary: batch
      ? `Send several events at once (Segment ${name})`
      : `Send one ${name} call (Segment ${name})`,
    description:
      'Segment HTTP Tracking API. The write key is the HTTP Basic user (or `writeKey` in the body); ' +
      'bodies may be gzip-encoded; 32 KB per event, 500 KB per request. ' +
      (batch ? 'Invalid items are rejected one by one, listed in `rejected`; the others are stored.' : ''),
    tags: ['ingest'],
    security: 'writeKey',
    body,
    response: IngestAnswer,
    errors: [400, 401, 413],
  }
}
