import { afterAll, beforeAll, expect, it } from 'vitest'
import { describeEachDriver } from '../helpers/db.ts'
import { type AdminFixture, adminFixture, otherWorkspace, seedProfile } from './helpers.ts'

describeEachDriver('admin API auth', (driver) => {
  let f: AdminFixture
  let otherKey: string
  beforeAll(async () => {
    f = await adminFixture(driver)
    otherKey = await otherWorkspace(f.db)
    await seedProfile(f.db, { userId: 'ann', traits: { email: 'ann@example.org' } })
    await seedProfile(f.db, { workspaceId: 'other', userId: 'zoe' })
  })
  afterAll(() => f.close())

  it('refuses a request without a key, naming the header to send', async () => {
    const res = await f.app.inject({ method: 'GET', url: '/api/v1/profiles' })
    expect(res.statusCode).toBe(401)
    expect(res.json().error.code).toBe('NUDGE_ERR_UNAUTHORIZED')
    expect(res.json().error.message).toContain('Authorization: Bearer')
  })

  it('refuses a write key with 403 and says which key to use', async () => {
    const res = await f.app.inject({
      method: 'GET',
      url: '/api/v1/profiles',
      headers: { authorization: `Bearer ${f.writeKey}` },
    })
    expect(res.statusCode).toBe(403)
    expect(res.json().error.code).toBe('NUDGE_ERR_FORBIDDEN')
    expect(res.json().error.message).toMatch(/write key.*admin key/)
  })

  it('refuses an unknown key and a Basic header', async () => {
    const unknown = await f.app.inject({
      method: 'GET',
      url: '/api/v1/events',
      headers: { authorization: 'Bearer nak_nope' },
    })
    expect(unknown.statusCode).toBe(401)
    const basic = await f.app.inject({
      method: 'GET',
      url: '/api/v1/events',
      headers: { authorization: `Basic ${Buffer.from(`${f.adminKey}:`).toString('base64')}` },
    })
    expect(basic.statusCode).toBe(401)
    expect(basic.json().error.message).toContain('Bearer')
  })

  it('protects every admin route listed in the OpenAPI document', async () => {
    const doc = (await f.app.inject({ method: 'GET', url: '/api/openapi.json' })).json()
    const ops = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(
      ([path, methods]) =>
        Object.keys(methods).map((m) => [m.toUpperCase(), path.replace(/\{\w+\}/g, 'x')] as const),
    )
    expect(ops.length).toBeGreaterThanOrEqual(7)
    for (const [method, url] of ops) {
      const res = await f.app.inject({
        method: method as 'GET',
        url,
        ...(method === 'POST' ? { payload: {} } : {}),
      })
      expect([method, url, res.statusCode]).toEqual([method, url, 401])
    }
  })

  it("scopes every read to the key's workspace", async () => {
    const other = { authorization: `Bearer ${otherKey}` }
    const list = await f.app.inject({ method: 'GET', url: '/api/v1/profiles', headers: other })
    expect(list.json().items.map((p: { userId: string }) => p.userId)).toEqual(['zoe'])
    const ann = await f.app.inject({ method: 'GET', url: '/api/v1/profiles/ann', headers: other })
    expect(ann.statusCode).toBe(404)
    const erase = await f.app.inject({ method: 'DELETE', url: '/api/v1/profiles/ann', headers: other })
    expect(erase.statusCode).toBe(404)
    const still = await f.app.inject({ method: 'GET', url: '/api/v1/profiles/ann', headers: f.auth })
    expect(still.json().userId).toBe('ann')
  })
})
