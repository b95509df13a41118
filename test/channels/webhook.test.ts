import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { openChannel } from '../../src/channels/registry.ts'
import type { ChannelSender, OutgoingMessage } from '../../src/channels/types.ts'
import { webhookChannel } from '../../src/channels/webhook.ts'
import { FakeClock } from '../../src/domain/clock.ts'
import { verifyWebhookSignature } from '../../src/domain/messages/signature.ts'
import { closedPort, type HttpPeer, startHttp } from './peers.ts'

const clock = new FakeClock('2026-03-02T08:30:00Z')
const SECRET = 'whsec_0123456789abcdef'
let peer: HttpPeer

beforeAll(async () => {
  peer = await startHttp()
})
afterAll(() => peer.close())
afterEach(() => {
  peer.requests.length = 0
  peer.respond = (_q, res) => res.end('ok')
})

const message: OutgoingMessage = {
  id: 'msg-7',
  idempotencyKey: 'run-9:step-notify',
  category: 'transactional',
  to: { profileId: 'p-ann', userId: 'u-ann', email: 'ann@example.com' },
  content: { subject: 'Read the rules', text: 'Ann was asked to read the rules on post 123' },
  meta: {
    workspaceId: 'default',
    profileId: 'p-ann',
    journeyId: 'rules-reminder',
    runId: 'run-9',
    stepId: 'notify',
  },
  data: { postId: 123 },
}

function open(config: Record<string, unknown>): ChannelSender {
  const r = openChannel(
    'webhook',
    { url: peer.url + '/hooks/nudge', secret: SECRET, timeoutMs: 500, ...config },
    {
      clock,
      dataDir: '/nonexistent',
    },
  )
  if (!r.ok) throw new Error(JSON.stringify(r.issues))
  return r.channel
}

describe('webhook channel', () => {
  it('POSTs signed JSON with the idempotency key, and the receiver can verify it', async () => {
    const r = await open({}).send(message)
    expect(r).toMatchObject({ ok: true, providerId: 'msg-7' })
    const req = peer.requests[0]!
    expect(req.method).toBe('POST')
    expect(req.url).toBe('/hooks/nudge')
    expect(req.headers['content-type']).toBe('application/json')
    expect(req.headers['idempotency-key']).toBe('run-9:step-notify')
    const body = req.body.toString('utf8')
    const unix = Math.floor(clock.now().getTime() / 1000)
    expect(req.headers['nudge-signature']).toMatch(new RegExp(`^t=${unix},v1=[0-9a-f]{64}$`))
    const sig = String(req.headers['nudge-signature'])
    expect(verifyWebhookSignature(SECRET, sig, body, unix)).toEqual({ ok: true })
    // A receiver with another secret, a changed body, or a replay an hour later refuses it.
    expect(verifyWebhookSignature('another-secret-value', sig, body, unix)).toEqual({
      ok: false,
      reason: 'mismatch',
    })
    expect(verifyWebhookSignature(SECRET, sig, body.replace('123', '124'), unix)).toEqual({
      ok: false,
      reason: 'mismatch',
    })
    expect(verifyWebhookSignature(SECRET, sig, body, unix + 3600)).toEqual({ ok: false, reason: 'too-old' })

    const json = JSON.parse(body)
    expect(json).toMatchObject({
      id: 'msg-7',
      idempotencyKey: 'run-9:step-notify',
      profileId: 'p-ann',
      journeyId: 'rules-reminder',
      recipient: { userId: 'u-ann', email: 'ann@example.com' },
      content: { subject: 'Read the rules' },
      data: { postId: 123 },
      createdAt: '2026-03-02T08:30:00.000Z',
    })
  })

  it('a 500 is retryable and a Retry-After is honoured', async () => {
    peer.respond = (_q, res) => {
      res.writeHead(503, { 'retry-after': '120' })
      res.end('maintenance')
    }
    const r = await open({}).send(message)
    expect(r).toEqual({
      ok: false,
      kind: 'retryable',
      reason: 'HTTP 503: maintenance',
      status: 503,
      retryAfterMs: 120_000,
    })
  })

  it('4xx is rejected, except 408 and 429 which are retryable, and 401/403 which mean misconfigured', async () => {
    const cases: [number, string][] = [
      [400, 'rejected'],
      [422, 'rejected'],
      [408, 'retryable'],
      [429, 'retryable'],
      [401, 'misconfigured'],
      [403, 'misconfigured'],
    ]
    const channel = open({})
    for (const [status, kind] of cases) {
      peer.respond = (_q, res) => {
        res.writeHead(status)
        res.end()
      }
      expect(await channel.send(message), String(status)).toMatchObject({ ok: false, kind, status })
    }
  })

  it('a receiver that never answers ends as retryable after the timeout', async () => {
    peer.respond = () => {} // never responds
    const started = performance.now()
    const r = await open({ timeoutMs: 300 }).send(message)
    expect(r).toMatchObject({ ok: false, kind: 'retryable', reason: 'no answer within 300 ms' })
    expect(performance.now() - started).toBeLessThan(3000)
  })

  it('a refused connection is retryable', async () => {
    const port = await closedPort()
    const r = openChannel(
      'webhook',
      { url: `http://127.0.0.1:${port}/x`, secret: SECRET },
      { clock, dataDir: '' },
    )
    if (!r.ok) throw new Error('config')
    expect(await r.channel.send(message)).toMatchObject({ ok: false, kind: 'retryable' })
  })

  it('does not follow redirects with a signed payload', async () => {
    peer.respond = (_q, res) => {
      res.writeHead(302, { location: 'http://elsewhere.example/' })
      res.end()
    }
    expect(await open({}).send(message)).toMatchObject({ ok: false, kind: 'misconfigured', status: 302 })
    expect(peer.requests).toHaveLength(1)
  })

  it('Slack and Discord presets post their own payload shapes', async () => {
    await open({ preset: 'slack', secret: undefined }).send(message)
    await open({ preset: 'discord', secret: undefined }).send({
      ...message,
      content: { text: 'x'.repeat(3000) },
    })
    expect(JSON.parse(peer.requests[0]!.body.toString())).toEqual({
      text: '*Read the rules*\nAnn was asked to read the rules on post 123',
    })
    const discord = JSON.parse(peer.requests[1]!.body.toString())
    expect(Object.keys(discord)).toEqual(['content'])
    expect(discord.content.length).toBe(2000)
    expect(peer.requests[0]!.headers['nudge-signature']).toBeUndefined()
  })

  it('refuses a generic webhook without a secret and a non-http URL', () => {
    expect(webhookChannel.validateConfig({ url: 'https://x.example' })).toMatchObject({
      ok: false,
      issues: [{ path: 'secret' }],
    })
    expect(webhookChannel.validateConfig({ url: 'ftp://x.example', secret: SECRET })).toMatchObject({
      ok: false,
      issues: [{ path: 'url' }],
    })
  })
})
