import { gzipSync } from 'node:zlib'
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest'
import { MAX_REQUEST_BYTES } from '../../src/domain/events/limits.ts'
import { describeEachDriver } from '../helpers/db.ts'
import { ADMIN_KEY, basic, type IngestApp, openIngestApp, WRITE_KEY } from './app.ts'

const auth = { authorization: basic(WRITE_KEY) }
const json = { ...auth, 'content-type': 'application/json' }

describeEachDriver('ingest routes', (driver) => {
  let t: IngestApp
  beforeAll(async () => {
    t = await openIngestApp(driver)
  })
  afterAll(() => t.close())
  beforeEach(() => t.reset())

  it('stores one event per call route, typed by the route', async () => {
    const calls: Array<[string, Record<string, unknown>]> = [
      ['identify', { userId: 'ann', traits: { email: 'ann@example.org' } }],
      ['track', { userId: 'ann', event: 'Post Created', properties: { forum: 'beginners' } }],
      ['page', { anonymousId: 'anon-1', name: 'Pricing' }],
      ['screen', { userId: 'ann', name: 'Inbox' }],
      ['group', { userId: 'ann', groupId: 'photo-club', traits: { name: 'Photo club' } }],
      ['alias', { userId: 'ann', previousId: 'anon-1' }],
    ]
    for (const [route, body] of calls) {
      const res = await t.post(`/v1/${route}`, { ...body, type: 'ignored' })
      expect(res.statusCode, route).toBe(200)
      expect(res.json()).toEqual({ success: true })
    }
    const rows = await t.rows()
    expect(rows.map((r) => [r.type, r.name, r.user_id, r.anonymous_id])).toEqual([
      ['identify', null, 'ann', null],
      ['track', 'Post Created', 'ann', null],
      ['page', 'Pricing', null, 'anon-1'],
      ['screen', 'Inbox', 'ann', null],
      ['group', null, 'ann', null],
      ['alias', null, 'ann', null],
    ])
    expect(rows[0]?.payload.traits).toEqual({ email: 'ann@example.org' })
    expect(rows[4]?.payload.groupId).toBe('photo-club')
    expect(rows[0]?.received_at.toISOString()).toBe('2026-03-01T12:00:00.000Z')
  })

  it('stores a batch through /v1/batch and /v1/import', async () => {
    for (const route of ['batch', 'import']) {
      const res = await t.post(`/v1/${route}`, {
        batch: [
          { type: 'identify', userId: `u-${route}`, messageId: `${route}-1` },
          { type: 'track', userId: `u-${route}`, event: 'Signed Up', messageId: `${route}-2` },
        ],
      })
      expect(res.json()).toEqual({ success: true })
    }
    expect((await t.rows()).map((r) => r.message_id)).toEqual(['batch-1', 'batch-2', 'import-1', 'import-2'])
  })

  it('accepts the write key as Basic user or in the body; refuses admin, unknown and missing keys', async () => {
    const ev = { userId: 'u', event: 'E' }
    expect((await t.post('/v1/track', ev, { authorization: basic(WRITE_KEY, 'ignored') })).statusCode).toBe(
      200,
    )
    expect((await t.post('/v1/track', { ...ev, writeKey: WRITE_KEY }, {})).statusCode).toBe(200)
    expect(
      (await t.post('/v1/batch', { writeKey: WRITE_KEY, batch: [{ ...ev, type: 'track' }] }, {})).statusCode,
    ).toBe(200)

    const admin = await t.post('/v1/track', ev, { authorization: basic(ADMIN_KEY) })
    expect(admin.statusCode).toBe(401)
    expect(admin.json().error.message).toMatch(/admin key/)
    const adminInBody = await t.post('/v1/track', { ...ev, writeKey: ADMIN_KEY }, {})
    expect(adminInBody.statusCode).toBe(401)
    const unknown = await t.post('/v1/track', ev, { authorization: basic('nwk_nope') })
    expect(unknown.statusCode).toBe(401)
    expect(unknown.json().error).toMatchObject({
      code: 'NUDGE_ERR_WRITE_KEY_REQUIRED',
      message: expect.stringMatching(/unknown or revoked/),
    })
    const missing = await t.post('/v1/track', ev, {})
    expect(missing.statusCode).toBe(401)
    expect(missing.json().error.message).toMatch(/HTTP Basic user, or as writeKey in the body/)
    // A wrong header key is refused even with a good key in the body: the header is what the client meant.
    expect(
      (await t.post('/v1/track', { ...ev, writeKey: WRITE_KEY }, { authorization: basic('bad') })).statusCode,
    ).toBe(401)
    expect((await t.rows()).length).toBe(3)
    expect((await t.rows()).every((r) => !('writeKey' in r.payload))).toBe(true)
  })

  it('reads gzip bodies and refuses bad gzip and gzip bombs with 4xx', async () => {
    const body = gzipSync(JSON.stringify({ batch: [{ type: 'track', userId: 'u', event: 'Zipped' }] }))
    const ok = await t.post('/v1/batch', body, { ...json, 'content-encoding': 'gzip' })
    expect(ok.statusCode).toBe(200)
    expect((await t.rows()).map((r) => r.name)).toEqual(['Zipped'])

    const bad = await t.post('/v1/batch', Buffer.from('definitely not gzip'), {
      ...json,
      'content-encoding': 'gzip',
    })
    expect(bad.statusCode).toBe(400)
    expect(bad.json().error.code).toBe('NUDGE_ERR_INVALID_ENCODING')

    // 20 MB of JSON whitespace compresses to ~20 KB: refused while inflating.
    const bomb = gzipSync(
      Buffer.concat([Buffer.from('{"batch":['), Buffer.alloc(20 * 1024 * 1024, 0x20), Buffer.from(']}')]),
    )
    expect(bomb.length).toBeLessThan(100 * 1024)
    const big = await t.post('/v1/batch', bomb, { ...json, 'content-encoding': 'gzip' })
    expect(big.statusCode).toBe(413)
    expect(big.json().error.code).toBe('NUDGE_ERR_BATCH_TOO_LARGE')

    const br = await t.post('/v1/batch', Buffer.from('{}'), { ...json, 'content-encoding': 'br' })
    expect(br.statusCode).toBe(400)
    expect(br.json().error.message).toMatch(/"br" is not supported/)
  })

  it('refuses bodies over 500 KB, events over 32 KB, malformed JSON, invalid UTF-8 and empty bodies', async () => {
    const filler = 'x'.repeat(20_000)
    const batch = Array.from({ length: 30 }, (_, i) => ({
      type: 'track',
      userId: 'u',
      event: 'E',
      messageId: `m${i}`,
      properties: { filler },
    }))
    const tooBig = await t.post('/v1/batch', { batch })
    expect(JSON.stringify({ batch }).length).toBeGreaterThan(MAX_REQUEST_BYTES)
    expect(tooBig.statusCode).toBe(413)
    expect(tooBig.json().error).toMatchObject({
      code: 'NUDGE_ERR_BATCH_TOO_LARGE',
      message: expect.stringMatching(/500 KB/),
    })

    const bigEvent = await t.post('/v1/track', {
      userId: 'u',
      event: 'E',
      properties: { blob: 'y'.repeat(40_000) },
    })
    expect(bigEvent.statusCode).toBe(413)
    expect(bigEvent.json().error.code).toBe('NUDGE_ERR_EVENT_TOO_LARGE')

    const malformed = await t.post('/v1/track', '{"userId": "u",', json)
    expect(malformed.statusCode).toBe(400)
    expect(malformed.json().error.code).toBe('NUDGE_ERR_INVALID_JSON')

    const latin1 = await t.post('/v1/track', Buffer.from('{"userId":"Jos\xe9","event":"E"}', 'latin1'), json)
    expect(latin1.statusCode).toBe(400)
    expect(latin1.json().error).toMatchObject({
      code: 'NUDGE_ERR_INVALID_ENCODING',
      message: 'The body is not valid UTF-8',
    })

    expect((await t.post('/v1/track', undefined, auth)).statusCode).toBe(400)
    const deep = await t.post(
      '/v1/track',
      `{"userId":"u","event":"E","properties":${'['.repeat(100_000)}${']'.repeat(100_000)}}`,
      json,
    )
    expect(deep.statusCode).toBe(400)
    expect(deep.json().error.issues[0].path).toMatch(/^properties\[0\]/)
    expect(await t.rows()).toEqual([])
  })

  it('refuses NUL and lone surrogates however the JSON text carries them, storing nothing', async () => {
    // As escapes, the only way valid JSON text holds them: found by path.
    const escaped = await t.post(
      '/v1/batch',
      '{"batch":[{"type":"track","userId":"u","event":"E","properties":{"a":"x\\u0000"}},' +
        '{"type":"track","userId":"u\\ud800","event":"E"},{"type":"track","userId":"u","event":"E","properties":{"k\\u0000":1}}]}',
      json,
    )
    expect(escaped.statusCode).toBe(400)
    expect(escaped.json().error.issues.map((i: { path: string }) => i.path)).toEqual([
      'batch[0].properties.a',
      'batch[1].userId',
      'batch[2].properties["k\\u0000"]',
    ])
    // Raw: a NUL byte is not JSON, surrogates encoded in bytes (CESU-8) are not UTF-8.
    const nul = await t.post('/v1/track', Buffer.from('{"userId":"u","event":"E\u0000"}', 'utf8'), json)
    expect(nul.json().error.code).toBe('NUDGE_ERR_INVALID_JSON')
    const cesu = Buffer.concat([
      Buffer.from('{"userId":"u'),
      Buffer.from([0xed, 0xa0, 0x80]),
      Buffer.from('","event":"E"}'),
    ])
    expect((await t.post('/v1/track', cesu, json)).json().error.code).toBe('NUDGE_ERR_INVALID_ENCODING')
    expect(await t.rows()).toEqual([])
  })

  it('accepts text/plain and form-encoded JSON bodies (sendBeacon, curl -d)', async () => {
    const body = JSON.stringify({ userId: 'u', event: 'Beacon' })
    expect((await t.post('/v1/track', body, { ...auth, 'content-type': 'text/plain' })).statusCode).toBe(200)
    expect(
      (await t.post('/v1/track', body, { ...auth, 'content-type': 'application/x-www-form-urlencoded' }))
        .statusCode,
    ).toBe(200)
    expect((await t.rows()).length).toBe(2)
  })

  it('stores the valid part of a batch and names the rejected items; an all-invalid or non-batch body is a 400', async () => {
    const res = await t.post('/v1/batch', {
      batch: [
        { type: 'track', userId: 'u', event: 'Good 1' },
        { type: 'track', event: 'No identity' },
        { type: 'identify', userId: { nested: true } },
        { type: 'track', anonymousId: 'a', event: 'Good 2', properties: { big: 'z'.repeat(33_000) } },
        { type: 'page', anonymousId: 'a', name: 'Good 3' },
      ],
    })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toEqual({
      success: true,
      rejected: [
        {
          index: 1,
          code: 'NUDGE_ERR_VALIDATION',
          issues: [{ path: 'batch[1].userId', message: 'userId or anonymousId is required' }],
        },
        {
          index: 2,
          code: 'NUDGE_ERR_VALIDATION',
          issues: [{ path: 'batch[2].userId', message: 'must be a string or a number' }],
        },
        {
          index: 3,
          code: 'NUDGE_ERR_EVENT_TOO_LARGE',
          issues: [
            { path: 'batch[3]', message: expect.stringMatching(/bytes; an event may be at most 32768/) },
          ],
        },
      ],
    })
    expect((await t.rows()).map((r) => r.name)).toEqual(['Good 1', 'Good 3'])

    const allBad = await t.post('/v1/batch', { batch: [{ type: 'track' }] })
    expect(allBad.statusCode).toBe(400)
    expect(allBad.json().error.issues[0].path).toBe('batch[0].event')
    for (const notBatch of [{ userId: 'u', event: 'E' }, [1, 2], 'batch', { batch: 'nope' }]) {
      const r = await t.post('/v1/batch', JSON.stringify(notBatch), json)
      expect(r.statusCode, JSON.stringify(notBatch)).toBe(400)
      expect(r.json().error.code).toBe('NUDGE_ERR_VALIDATION')
    }
    const single = await t.post('/v1/identify', { traits: {} })
    expect(single.statusCode).toBe(400)
    expect(single.json().error.issues).toEqual([
      { path: 'userId', message: 'userId or anonymousId is required' },
    ])
  })

  it('acknowledges a retried messageId without storing it twice', async () => {
    const body = { batch: [{ type: 'track', userId: 'u', event: 'Booked', messageId: 'retry-1' }] }
    const first = await t.post('/v1/batch', body)
    const again = await Promise.all([t.post('/v1/batch', body), t.post('/v1/track', body.batch[0])])
    expect([first, ...again].map((r) => r.statusCode)).toEqual([200, 200, 200])
    expect(first.json()).toEqual({ success: true })
    expect(again[0]?.json()).toEqual({ success: true, duplicates: 1 })
    expect((await t.rows()).map((r) => r.message_id)).toEqual(['retry-1'])
    const twice = await t.post('/v1/batch', {
      batch: [
        { type: 'track', userId: 'u', event: 'Booked', messageId: 'twin' },
        { type: 'track', userId: 'u', event: 'Booked', messageId: 'twin' },
      ],
    })
    expect(twice.json()).toEqual({ success: true, duplicates: 1 })
  })

  it('stamps receivedAt from the clock and corrects the client clock skew', async () => {
    t.clock.set('2026-03-01T15:00:00.000Z')
    await t.post('/v1/batch', {
      sentAt: '2026-03-01T09:00:05.000Z', // the device clock is 6 h behind
      batch: [
        { type: 'track', userId: 'u', event: 'Skewed', timestamp: '2026-03-01T09:00:00.000Z' },
        { type: 'track', userId: 'u', event: 'No client time' },
      ],
    })
    await t.post('/v1/track', { userId: 'u', event: 'Import', timestamp: '2024-12-24T18:00:00+01:00' })
    const rows = await t.rows()
    expect(rows.map((r) => [r.name, r.timestamp.toISOString(), r.received_at.toISOString()])).toEqual([
      ['Skewed', '2026-03-01T14:59:55.000Z', '2026-03-01T15:00:00.000Z'],
      ['No client time', '2026-03-01T15:00:00.000Z', '2026-03-01T15:00:00.000Z'],
      ['Import', '2024-12-24T17:00:00.000Z', '2026-03-01T15:00:00.000Z'],
    ])
    expect(rows[0]?.payload.originalTimestamp).toBe('2026-03-01T09:00:00.000Z')
  })
})
