// Web Push against a local HTTPS server acting as the push service: it checks the VAPID
// JWT and decrypts the aes128gcm payload the way a browser would (RFC 8291).
import { createDecipheriv, createECDH, createPublicKey, hkdfSync, randomBytes, verify } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { Agent, createServer, type Server } from 'node:https'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateVapidKeys, pushChannel } from '../../src/channels/push.ts'
import type { ChannelSender, OutgoingMessage, PushSubscription } from '../../src/channels/types.ts'
import { FakeClock } from '../../src/domain/clock.ts'

const tls = new URL('../fixtures/tls/', import.meta.url)
const cert = readFileSync(new URL('cert.pem', tls))
const key = readFileSync(new URL('key.pem', tls))

interface Received {
  path: string
  headers: Record<string, string | string[] | undefined>
  body: Buffer
}
const received: Received[] = []
let status = 201
let server: Server
let base: string

beforeAll(async () => {
  server = createServer({ key, cert }, (req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      received.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) })
      res.writeHead(status, status === 201 ? { location: `${base}/messages/m1` } : {})
      res.end()
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  base = `https://127.0.0.1:${(server.address() as { port: number }).port}`
})
afterAll(() => new Promise<void>((r) => server.close(() => r())))

/** A browser's side of a subscription: its key pair and auth secret. */
function browser() {
  const ecdh = createECDH('prime256v1')
  ecdh.generateKeys()
  const auth = randomBytes(16)
  const subscription: PushSubscription = {
    endpoint: `${base}/push/${randomBytes(6).toString('hex')}`,
    keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: auth.toString('base64url') },
  }
  return { ecdh, auth, subscription }
}

/** RFC 8291 + RFC 8188 decryption, as the browser does it. */
function decrypt(body: Buffer, ua: ReturnType<typeof browser>): string {
  const salt = body.subarray(0, 16)
  const idlen = body[20]!
  const asPublic = body.subarray(21, 21 + idlen)
  const cipher = body.subarray(21 + idlen)
  const secret = ua.ecdh.computeSecret(asPublic)
  const info = Buffer.concat([Buffer.from('WebPush: info\0'), ua.ecdh.getPublicKey(), asPublic])
  const ikm = Buffer.from(hkdfSync('sha256', secret, ua.auth, info, 32))
  const cek = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: aes128gcm\0'), 16))
  const nonce = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: nonce\0'), 12))
  const d = createDecipheriv('aes-128-gcm', cek, nonce)
  d.setAuthTag(cipher.subarray(cipher.length - 16))
  const plain = Buffer.concat([d.update(cipher.subarray(0, cipher.length - 16)), d.final()])
  // The last record ends with the delimiter 0x02 then zero padding.
  let end = plain.length
  while (end > 0 && plain[end - 1] === 0) end--
  return plain.subarray(0, end - 1).toString('utf8')
}

function verifyVapid(authorization: string, publicKey: string): Record<string, unknown> {
  const m = /^vapid t=([^,]+),\s*k=(.+)$/.exec(authorization)
  if (!m) throw new Error(`not a VAPID header: ${authorization}`)
  const [h, p, s] = m[1]!.split('.')
  const raw = Buffer.from(m[2]!, 'base64url')
  expect(m[2]).toBe(publicKey)
  const jwk = {
    kty: 'EC',
    crv: 'P-256',
    x: raw.subarray(1, 33).toString('base64url'),
    y: raw.subarray(33).toString('base64url'),
  }
  const ok = verify(
    'sha256',
    Buffer.from(`${h}.${p}`),
    { key: createPublicKey({ key: jwk, format: 'jwk' }), dsaEncoding: 'ieee-p1363' },
    Buffer.from(s!, 'base64url'),
  )
  if (!ok) throw new Error('bad VAPID signature')
  return JSON.parse(Buffer.from(p!, 'base64url').toString())
}

const vapid = generateVapidKeys()

function open(): ChannelSender {
  const v = pushChannel.validateConfig({
    vapidSubject: 'mailto:ops@photoclub.example',
    vapidPublicKey: vapid.publicKey,
    vapidPrivateKey: vapid.privateKey,
    ttlSeconds: 3600,
    timeoutMs: 2000,
  })
  if (!v.ok) throw new Error(JSON.stringify(v.issues))
  return pushChannel.open(v.config, {
    clock: new FakeClock(),
    dataDir: '',
    httpsAgent: new Agent({ ca: cert }),
  })
}

const message = (subscription: PushSubscription | undefined): OutgoingMessage => ({
  id: 'msg-push',
  idempotencyKey: 'run-5:step-push',
  category: 'marketing',
  to: { profileId: 'p1', ...(subscription ? { pushSubscription: subscription } : {}) },
  content: {
    subject: 'Need a ride?',
    text: 'You just landed. A ride to the city is 4 minutes away.',
    url: 'https://rides.example/book',
  },
  meta: { workspaceId: 'default', profileId: 'p1', journeyId: 'airport-ride' },
})

describe('push channel (Web Push, VAPID)', () => {
  it('POSTs an encrypted payload that only the subscribed browser can read, signed with VAPID', async () => {
    status = 201
    const ua = browser()
    const r = await open().send(message(ua.subscription))
    expect(r).toMatchObject({ ok: true, providerId: `${base}/messages/m1` })
    const req = received.at(-1)!
    expect(req.path).toBe(new URL(ua.subscription.endpoint).pathname)
    expect(req.headers['content-encoding']).toBe('aes128gcm')
    expect(req.headers.ttl).toBe('3600')
    expect(req.headers.topic).toMatch(/^[A-Za-z0-9_-]{32}$/)
    // Not readable on the wire…
    expect(req.body.toString('latin1')).not.toContain('Need a ride')
    // …but the browser's keys open it.
    expect(JSON.parse(decrypt(req.body, ua))).toEqual({
      id: 'msg-push',
      title: 'Need a ride?',
      body: 'You just landed. A ride to the city is 4 minutes away.',
      url: 'https://rides.example/book',
    })
    const claims = verifyVapid(String(req.headers.authorization), vapid.publicKey)
    expect(claims.aud).toBe(base)
    expect(claims.sub).toBe('mailto:ops@photoclub.example')
  })

  it('410 and 404 from the push service mean the subscription expired', async () => {
    const channel = open()
    for (const code of [410, 404]) {
      status = code
      expect(await channel.send(message(browser().subscription))).toMatchObject({
        ok: false,
        kind: 'rejected',
        expired: true,
        status: code,
      })
    }
    status = 503
    expect(await channel.send(message(browser().subscription))).toMatchObject({
      ok: false,
      kind: 'retryable',
    })
    status = 201
  })

  it('rejects malformed subscriptions before any request', async () => {
    const channel = open()
    const before = received.length
    const good = browser().subscription
    const bad: (PushSubscription | undefined)[] = [
      undefined,
      { ...good, endpoint: 'not a url' },
      { ...good, endpoint: 'http://push.example/x' },
      { ...good, keys: { ...good.keys, p256dh: 'short' } },
      { ...good, keys: { ...good.keys, auth: Buffer.alloc(8).toString('base64url') } },
    ]
    for (const sub of bad) {
      expect(await channel.send(message(sub))).toMatchObject({ ok: false, kind: 'rejected' })
    }
    expect(received.length).toBe(before)
  })

  it('refuses VAPID keys that are not P-256 keys', () => {
    const v = pushChannel.validateConfig({
      vapidSubject: 'ops@x',
      vapidPublicKey: 'abc',
      vapidPrivateKey: 'def',
    })
    expect(v.ok).toBe(false)
    if (!v.ok)
      expect(v.issues.map((i) => i.path).sort()).toEqual([
        'vapidPrivateKey',
        'vapidPublicKey',
        'vapidSubject',
      ])
  })
})
