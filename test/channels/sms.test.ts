import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { openChannel } from '../../src/channels/registry.ts'
import { normalisePhone } from '../../src/channels/sms.ts'
import type { ChannelSender, OutgoingMessage } from '../../src/channels/types.ts'
import { FakeClock } from '../../src/domain/clock.ts'
import { type HttpPeer, startHttp } from './peers.ts'

const SID = `AC${'a1'.repeat(16)}`
const TOKEN = 'twilio-token-123'
let twilio: HttpPeer

function created(sid = `SM${'f0'.repeat(16)}`) {
  return (_q: unknown, res: import('node:http').ServerResponse) => {
    res.writeHead(201, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ sid, status: 'queued' }))
  }
}

beforeAll(async () => {
  twilio = await startHttp(created())
})
afterAll(() => twilio.close())
afterEach(() => {
  twilio.requests.length = 0
  twilio.respond = created()
})

const message = (phone: string | undefined): OutgoingMessage => ({
  id: 'msg-sms',
  idempotencyKey: 'run-1:step-sms',
  category: 'transactional',
  to: { profileId: 'p1', ...(phone === undefined ? {} : { phone }) },
  content: { text: 'Your ride to the city is 10 min away. Book: https://x.example/r' },
  meta: { workspaceId: 'default', profileId: 'p1' },
})

function open(extra: Record<string, unknown> = {}): ChannelSender {
  const r = openChannel(
    'sms',
    {
      baseUrl: twilio.url,
      accountSid: SID,
      authToken: TOKEN,
      from: '+15005550006',
      statusCallbackUrl: 'https://nudge.example/t/sms-status',
      ...extra,
    },
    { clock: new FakeClock(), dataDir: '' },
  )
  if (!r.ok) throw new Error(JSON.stringify(r.issues))
  return r.channel
}

describe('sms channel (Twilio REST API)', () => {
  it('POSTs a form with basic auth to the Messages resource and returns the SID', async () => {
    const r = await open().send(message('+33 6 12 34 56 78'))
    expect(r).toEqual({ ok: true, providerId: `SM${'f0'.repeat(16)}`, detail: 'queued' })
    const req = twilio.requests[0]!
    expect(req.method).toBe('POST')
    expect(req.url).toBe(`/2010-04-01/Accounts/${SID}/Messages.json`)
    expect(req.headers.authorization).toBe(`Basic ${Buffer.from(`${SID}:${TOKEN}`).toString('base64')}`)
    expect(req.headers['content-type']).toBe('application/x-www-form-urlencoded')
    const form = Object.fromEntries(new URLSearchParams(req.body.toString()))
    expect(form).toEqual({
      To: '+33612345678',
      From: '+15005550006',
      Body: 'Your ride to the city is 10 min away. Book: https://x.example/r',
      StatusCallback: 'https://nudge.example/t/sms-status',
    })
  })

  it('rejects a malformed or missing number before any call', async () => {
    const channel = open()
    for (const phone of ['0612345678', '+0612345678', '+33 6 12 AB', '+1234567890123456', undefined]) {
      expect(await channel.send(message(phone)), String(phone)).toMatchObject({ ok: false, kind: 'rejected' })
    }
    expect(twilio.requests).toHaveLength(0)
  })

  it('maps Twilio errors: bad recipient rejected, bad credentials misconfigured, 429/5xx retryable', async () => {
    const channel = open()
    const answer = (status: number, body: object) => {
      twilio.respond = (_q, res) => {
        res.writeHead(status, { 'content-type': 'application/json' })
        res.end(JSON.stringify(body))
      }
    }
    answer(400, { code: 21211, message: "The 'To' number is not a valid phone number." })
    expect(await channel.send(message('+15005550001'))).toMatchObject({
      ok: false,
      kind: 'rejected',
      status: 400,
    })
    answer(400, { code: 21610, message: 'Attempt to send to unsubscribed recipient' })
    expect(await channel.send(message('+15005550001'))).toMatchObject({ ok: false, kind: 'rejected' })
    answer(401, { code: 20003, message: 'Authenticate' })
    expect(await channel.send(message('+15005550001'))).toMatchObject({ ok: false, kind: 'misconfigured' })
    answer(400, { code: 21606, message: "The 'From' phone number is not valid" })
    expect(await channel.send(message('+15005550001'))).toMatchObject({ ok: false, kind: 'misconfigured' })
    answer(429, { code: 20429, message: 'Too Many Requests' })
    expect(await channel.send(message('+15005550001'))).toMatchObject({ ok: false, kind: 'retryable' })
    answer(500, { message: 'oops' })
    expect(await channel.send(message('+15005550001'))).toMatchObject({ ok: false, kind: 'retryable' })
  })

  it('normalises typed numbers and refuses what is not E.164', () => {
    expect(normalisePhone('+1 (415) 555-0100')).toBe('+14155550100')
    expect(normalisePhone('415 555 0100')).toBeUndefined()
  })

  it('refuses a config with a wrong SID or no sender', () => {
    const r = openChannel(
      'sms',
      { accountSid: 'nope', authToken: TOKEN },
      { clock: new FakeClock(), dataDir: '' },
    )
    expect(r.ok).toBe(false)
    if (!r.ok) expect(r.issues.map((i) => i.path)).toEqual(expect.arrayContaining(['sms.accountSid']))
  })
})
