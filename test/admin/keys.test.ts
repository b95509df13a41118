import { afterAll, beforeAll, expect, it } from 'vitest'
import { describeEachDriver } from '../helpers/db.ts'
import { type AdminFixture, adminFixture } from './helpers.ts'

describeEachDriver('admin API: keys', (driver) => {
  let f: AdminFixture
  beforeAll(async () => {
    f = await adminFixture(driver)
  })
  afterAll(() => f.close())

  const call = async (method: 'GET' | 'POST' | 'DELETE', url: string, key: string, payload?: object) => {
    const res = await f.app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${key}` },
      ...(payload ? { payload } : {}),
    })
    return { status: res.statusCode, body: res.json() }
  }

  it('lists the workspace keys without their secrets', async () => {
    const { status, body } = await call('GET', '/api/v1/keys', f.adminKey)
    expect(status).toBe(200)
    expect(body.items.map((k: { kind: string; name: string }) => `${k.kind}:${k.name}`).sort()).toEqual([
      'admin:initial',
      'write:initial',
    ])
    expect(JSON.stringify(body)).not.toContain(f.adminKey)
    expect(JSON.stringify(body)).not.toContain('hash')
  })

  it('creates an admin key whose secret works at once and is shown only then', async () => {
    const created = await call('POST', '/api/v1/keys', f.adminKey, { kind: 'admin', name: 'ci' })
    expect(created.status).toBe(201)
    expect(created.body).toMatchObject({ kind: 'admin', name: 'ci', secret: expect.stringMatching(/^nak_/) })
    expect((await call('GET', '/api/v1/keys', created.body.secret)).status).toBe(200)
    const listed = await call('GET', '/api/v1/keys', f.adminKey)
    expect(JSON.stringify(listed.body)).not.toContain(created.body.secret)
  })

  it('revokes a key so that it stops working at once', async () => {
    const created = await call('POST', '/api/v1/keys', f.adminKey, { kind: 'admin' })
    expect((await call('GET', '/api/v1/profiles', created.body.secret)).status).toBe(200)
    const revoked = await call('DELETE', `/api/v1/keys/${created.body.id}`, f.adminKey)
    expect(revoked).toEqual({ status: 200, body: { id: created.body.id, revoked: true } })
    expect((await call('GET', '/api/v1/profiles', created.body.secret)).status).toBe(401)
    const listed = await call('GET', '/api/v1/keys', f.adminKey)
    const row = listed.body.items.find((k: { id: string }) => k.id === created.body.id)
    expect(row.revokedAt).toEqual(expect.any(String))
    expect((await call('DELETE', `/api/v1/keys/${created.body.id}`, f.adminKey)).status).toBe(404)
  })

  it('refuses to revoke the last admin key', async () => {
    const keys = (await call('GET', '/api/v1/keys', f.adminKey)).body.items as {
      id: string
      kind: string
      revokedAt: string | null
    }[]
    const admins = keys.filter((k) => k.kind === 'admin' && !k.revokedAt)
    // Revoke all admin keys but the last, then try the last one.
    for (const k of admins.slice(1))
      expect((await call('DELETE', `/api/v1/keys/${k.id}`, f.adminKey)).status).toBe(200)
    const last = await call('DELETE', `/api/v1/keys/${admins[0]!.id}`, f.adminKey)
    expect(last.status).toBe(409)
    expect(last.body.error.code).toBe('NUDGE_ERR_LAST_ADMIN_KEY')
    expect((await call('GET', '/api/v1/keys', f.adminKey)).status).toBe(200)
  })
})
