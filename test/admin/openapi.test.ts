import { afterAll, beforeAll, expect, it } from 'vitest'
import { describeEachDriver } from '../helpers/db.ts'
import { type AdminFixture, adminFixture } from './helpers.ts'

type Doc = {
  openapi: string
  paths: Record<string, Record<string, Operation>>
  components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> }
}
type Operation = {
  operationId: string
  security: Record<string, string[]>[]
  parameters: { name: string; in: string; required: boolean; schema: Record<string, unknown> }[]
  requestBody?: { content: { 'application/json': { schema: Record<string, unknown> } } }
  responses: Record<string, { content: { 'application/json': { schema: Record<string, unknown> } } }>
}

function refs(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) for (const n of node) refs(n, out)
  else if (node && typeof node === 'object')
    for (const [k, v] of Object.entries(node))
      k === '$ref' && typeof v === 'string' ? out.push(v) : refs(v, out)
  return out
}

describeEachDriver('OpenAPI document', (driver) => {
  let f: AdminFixture
  let doc: Doc
  beforeAll(async () => {
    f = await adminFixture(driver)
    const res = await f.app.inject({ method: 'GET', url: '/api/openapi.json' })
    expect(res.statusCode).toBe(200)
    doc = res.json()
  })
  afterAll(() => f.close())

  it('is OpenAPI 3.1 and lists the admin and ingest routes once', () => {
    expect(doc.openapi).toBe('3.1.0')
    const ops = Object.entries(doc.paths).flatMap(([p, m]) =>
      Object.keys(m).map((method) => `${method} ${p}`),
    )
    expect(ops.sort()).toEqual(
      expect.arrayContaining([
        'post /v1/identify',
        'post /v1/track',
        'post /v1/page',
        'post /v1/screen',
        'post /v1/group',
        'post /v1/alias',
        'post /v1/batch',
        'post /v1/import',
        'get /api/v1/events',
        'get /api/v1/keys',
        'post /api/v1/keys',
        'delete /api/v1/keys/{id}',
        'get /api/v1/profiles',
        'get /api/v1/profiles/{id}',
        'delete /api/v1/profiles/{id}',
        'get /api/v1/profiles/{id}/events',
      ]),
    )
    expect(doc.paths['/v1/track']!.post!.security).toEqual([{ writeKey: [] }])
    const ids = Object.values(doc.paths).flatMap((m) => Object.values(m).map((o) => o.operationId))
    expect(new Set(ids).size).toBe(ids.length)
  })

  it('describes parameters, bodies, responses and the admin key', () => {
    const search = doc.paths['/api/v1/profiles']!.get!
    expect(search.security).toEqual([{ adminKey: [] }])
    const byName = Object.fromEntries(search.parameters.map((p) => [p.name, p]))
    expect(Object.keys(byName).sort()).toEqual(['cursor', 'limit', 'q', 'trait'])
    expect(byName.limit).toMatchObject({
      in: 'query',
      required: false,
      schema: { type: 'integer', maximum: 1000 },
    })
    const one = doc.paths['/api/v1/profiles/{id}']!.get!
    expect(one.parameters).toEqual([expect.objectContaining({ name: 'id', in: 'path', required: true })])
    expect(Object.keys(one.responses).sort()).toEqual(['200', '400', '401', '403', '404'])
    const create = doc.paths['/api/v1/keys']!.post!
    expect(create.requestBody?.content['application/json'].schema).toMatchObject({
      type: 'object',
      required: ['kind'],
      properties: { kind: { enum: ['write', 'admin'] } },
    })
    expect(create.responses['201']).toBeDefined()
    expect(doc.components.securitySchemes.adminKey).toMatchObject({ type: 'http', scheme: 'bearer' })
  })

  it('resolves every $ref to a component schema', () => {
    const all = refs(doc)
    expect(all).toContain('#/components/schemas/Error')
    expect(all).toContain('#/components/schemas/Profile')
    for (const ref of all) {
      expect(ref).toMatch(/^#\/components\/schemas\//)
      expect(doc.components.schemas[ref.split('/').at(-1)!], ref).toBeDefined()
    }
    expect(doc.components.schemas.Profile).toMatchObject({
      type: 'object',
      properties: { identities: { type: 'array' }, counters: { type: 'array' } },
    })
  })

  it('answers bad input with 400 and the path of each wrong field', async () => {
    const cases = [
      { url: '/api/v1/profiles?limit=0', path: 'query.limit' },
      { url: '/api/v1/profiles?limit=abc', path: 'query.limit' },
      { url: '/api/v1/profiles?trait=plan', path: 'query.trait' },
      { url: '/api/v1/events?cursor=garbage', path: 'query.cursor' },
      { url: '/api/v1/profiles/ann/events?limit=5000', path: 'query.limit' },
    ]
    for (const c of cases) {
      const res = await f.app.inject({ method: 'GET', url: c.url, headers: f.auth })
      expect([c.url, res.statusCode]).toEqual([c.url, 400])
      expect(res.json().error.code).toBe('NUDGE_ERR_VALIDATION')
      expect(res.json().error.issues.map((i: { path: string }) => i.path)).toContain(c.path)
      expect(res.json().error.message).toContain(c.path)
    }
    const body = await f.app.inject({
      method: 'POST',
      url: '/api/v1/keys',
      headers: f.auth,
      payload: { kind: 'root', name: '' },
    })
    expect(body.statusCode).toBe(400)
    expect(
      body
        .json()
        .error.issues.map((i: { path: string }) => i.path)
        .sort(),
    ).toEqual(['body.kind', 'body.name'])
    const notJson = await f.app.inject({
      method: 'POST',
      url: '/api/v1/keys',
      headers: { ...f.auth, 'content-type': 'application/json' },
      payload: '{"kind":',
    })
    expect(notJson.statusCode).toBe(400)
    expect(notJson.json().error.code).toBe('NUDGE_ERR_INVALID_JSON')
  })
})
