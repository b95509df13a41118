// Routes declared once: the same zod schemas validate a request (400 with field
// paths) and describe it in the OpenAPI 3.1 document at /api/openapi.json.
// Any plugin adds a documented route with `route(app, spec, handler)`; the document
// is collected from the routes Fastify actually registered, so it cannot drift.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { z } from 'zod'
import { type ErrorIssue, errorCatalogue, NudgeError } from '../domain/errors.ts'

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'
type Schema = z.ZodType
type ObjectSchema = z.ZodObject

/** How the caller authenticates; declared for the document, enforced by the owning plugin. */
export type Security = 'adminKey' | 'writeKey' | 'none'

export interface RouteSpec<
  P extends ObjectSchema | undefined = undefined,
  Q extends ObjectSchema | undefined = undefined,
  B extends Schema | undefined = undefined,
  R extends Schema = Schema,
> {
  readonly method: Method
  /** OpenAPI-style path, e.g. /api/v1/profiles/{id}. */
  readonly path: string
  readonly operationId: string
  readonly summary: string
  readonly description?: string
  readonly tags?: readonly string[]
  readonly security: Security
  readonly params?: P
  readonly query?: Q
  readonly body?: B
  /** Success status, 200 unless told. */
  readonly status?: number
  readonly response: R
  /** Error statuses this route may answer, documented with the shared error shape. */
  readonly errors?: readonly number[]
}

type Out<S> = S extends Schema ? z.output<S> : undefined

export interface RouteInput<P, Q, B> {
  readonly params: Out<P>
  readonly query: Out<Q>
  readonly body: Out<B>
  readonly req: FastifyRequest
  readonly reply: FastifyReply
}

// biome-ignore lint/suspicious/noExplicitAny: the registry holds specs of every shape
type AnySpec = RouteSpec<any, any, any, any>

declare module 'fastify' {
  interface FastifyContextConfig {
    openapi?: AnySpec
  }
}

export const ErrorBody = z.object({
  error: z.object({
    code: z.enum(Object.keys(errorCatalogue) as [keyof typeof errorCatalogue]),
    message: z.string(),
    issues: z
      .array(z.object({ path: z.string(), message: z.string(), hint: z.string().optional() }))
      .optional(),
  }),
})

function issuesOf(where: string, error: z.ZodError): ErrorIssue[] {
  return error.issues.map((i) => ({
    path: [where, ...i.path.map(String)].join('.'),
    message: i.message,
  }))
}

function validate<S extends Schema | undefined>(
  schema: S,
  where: string,
  value: unknown,
  issues: ErrorIssue[],
): Out<S> {
  if (!schema) return undefined as Out<S>
  const parsed = schema.safeParse(value ?? (where === 'body' ? undefined : {}))
  if (parsed.success) return parsed.data as Out<S>
  issues.push(...issuesOf(where, parsed.error))
  return undefined as Out<S>
}

export function route<
  P extends ObjectSchema | undefined,
  Q extends ObjectSchema | undefined,
  B extends Schema | undefined,
  R extends Schema,
>(
  app: FastifyInstance,
  spec: RouteSpec<P, Q, B, R>,
  handler: (input: RouteInput<P, Q, B>) => Promise<z.input<R>>,
): void {
  app.route({
    method: spec.method,
    url: spec.path.replace(/\{(\w+)\}/g, ':$1'),
    config: { openapi: spec },
    handler: async (req, reply) => {
      const issues: ErrorIssue[] = []
      // An absent schema is `undefined` and yields undefined, which is what Out<undefined> says.
      const params = validate(spec.params, 'params', req.params, issues) as Out<P>
      const query = validate(spec.query, 'query', req.query, issues) as Out<Q>
      const body = validate(spec.body, 'body', req.body, issues) as Out<B>
      if (issues.length) {
        const shown = issues
          .slice(0, 5)
          .map((i) => `${i.path}: ${i.message}`)
          .join('; ')
        throw new NudgeError('NUDGE_ERR_VALIDATION', `Invalid request: ${shown}`, issues)
      }
      const out = await handler({ params, query, body, req, reply })
      return reply.status(spec.status ?? 200).send(out)
    },
  })
}

const HTTP_REASONS: Record<number, string> = {
  200: 'OK',
  201: 'Created',
  400: 'Invalid input; `issues` lists each field path and what is wrong',
  401: 'Missing or unknown key',
  403: 'The key is of the wrong kind for this route',
  404: 'Not found',
  409: 'Conflict with the current state',
  413: 'Request too large',
}

type ToJson = (schema: Schema, io: 'input' | 'output') => Record<string, unknown>

/** A converter that moves shared shapes (those with `.meta({ id })`) into `components`. */
function converter(components: Record<string, unknown>): ToJson {
  return (schema, io) => {
    const raw = z.toJSONSchema(schema, { io, target: 'draft-2020-12', unrepresentable: 'any' })
    // Shapes with an id land in $defs; in OpenAPI they live under components.schemas.
    const moved = JSON.parse(JSON.stringify(raw).replaceAll('"#/$defs/', '"#/components/schemas/'))
    const { $schema: _drop, $defs, ...rest } = moved as Record<string, unknown>
    if ($defs) Object.assign(components, $defs)
    return rest
  }
}

function parametersOf(toJson: ToJson, schema: ObjectSchema | undefined, where: 'path' | 'query'): unknown[] {
  if (!schema) return []
  const js = toJson(schema, 'input') as {
    properties?: Record<string, Record<string, unknown>>
    required?: string[]
  }
  return Object.entries(js.properties ?? {}).map(([name, s]) => {
    const { description, ...rest } = s
    return {
      name,
      in: where,
      required: where === 'path' || (js.required ?? []).includes(name),
      ...(description ? { description } : {}),
      schema: rest,
    }
  })
}

function operationOf(toJson: ToJson, spec: AnySpec): Record<string, unknown> {
  const status = spec.status ?? 200
  const responses: Record<string, unknown> = {
    [status]: {
      description: HTTP_REASONS[status] ?? 'Success',
      content: { 'application/json': { schema: toJson(spec.response, 'output') } },
    },
  }
  const errors = new Set<number>([...(spec.errors ?? [])])
  if (spec.params || spec.query || spec.body) errors.add(400)
  if (spec.security !== 'none') errors.add(401).add(403)
  for (const e of [...errors].sort()) {
    responses[e] = {
      description: HTTP_REASONS[e] ?? 'Error',
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
    }
  }
  return {
    operationId: spec.operationId,
    summary: spec.summary,
    ...(spec.description ? { description: spec.description } : {}),
    ...(spec.tags ? { tags: spec.tags } : {}),
    security: spec.security === 'none' ? [] : [{ [spec.security]: [] }],
    parameters: [...parametersOf(toJson, spec.params, 'path'), ...parametersOf(toJson, spec.query, 'query')],
    ...(spec.body
      ? {
          requestBody: {
            required: true,
            content: { 'application/json': { schema: toJson(spec.body, 'input') } },
          },
        }
      : {}),
    responses,
  }
}

export interface DocumentInfo {
  readonly title: string
  readonly version: string
  readonly description?: string
}

export function buildDocument(specs: readonly AnySpec[], info: DocumentInfo): Record<string, unknown> {
  const schemas: Record<string, unknown> = {}
  const toJson = converter(schemas)
  const paths: Record<string, Record<string, unknown>> = {}
  for (const spec of [...specs].sort((a, b) => a.path.localeCompare(b.path))) {
    paths[spec.path] ??= {}
    paths[spec.path]![spec.method.toLowerCase()] = operationOf(toJson, spec)
  }
  schemas.Error = toJson(ErrorBody, 'output')
  return {
    openapi: '3.1.0',
    info,
    paths,
    components: {
      schemas,
      securitySchemes: {
        adminKey: {
          type: 'http',
          scheme: 'bearer',
          description: 'An admin key: Authorization: Bearer nak_…',
        },
        writeKey: {
          type: 'http',
          scheme: 'basic',
          description: 'A write key as the Basic user, no password',
        },
      },
    },
  }
}

/**
 * Collects every route declared with `route()` (in any plugin registered after this
 * call) and serves the document. Call it first in buildApp.
 */
export function installOpenApi(app: FastifyInstance, info: DocumentInfo): void {
  const specs: AnySpec[] = []
  app.addHook('onRoute', (opts) => {
    const spec = opts.config?.openapi
    // HEAD routes are added by Fastify for every GET; document the GET only.
    if (spec && opts.method !== 'HEAD') specs.push(spec)
  })
  let doc: Record<string, unknown> | undefined
  app.get('/api/openapi.json', async () => {
    doc ??= buildDocument(specs, info)
    return doc
  })
}
