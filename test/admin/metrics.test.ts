// Messaging metrics on what the real processor, scheduler and dispatcher did on a fake
// clock: the abandoned-booking journey mails a real SMTP server (which refuses one
// address), members open, click and unsubscribe through the links in the mail they got,
// some book in time to convert, one too late. Every count and rate is checked exactly.
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { buildApp } from '../../src/http/app.ts'
import { silentLogger } from '../../src/log.ts'
import { putChannelConfig } from '../../src/store/channel-configs.ts'
import { createKey } from '../../src/store/workspaces.ts'
import { type SmtpPeer, startSmtp } from '../channels/peers.ts'
import { describeEachDriver } from '../helpers/db.ts'
import { makeWorld, type World } from '../helpers/world.ts'
import { BROWSER_UA } from '../public/helpers.ts'
import { otherWorkspace } from './helpers.ts'

const SCANNER_UA = 'Mozilla/5.0 (compatible; Mimecast URL Protect)'
const MEMBERS = ['ann', 'bob', 'cat', 'dan', 'eve', 'fay', 'gus', 'hal']

interface Links {
  pixel: string
  click: string
  unsubscribe: string
}

/** The tracked links of the mail a member got, as paths on this server. */
function linksOf(smtp: SmtpPeer, userId: string): Links {
  const mail = smtp.received.find((m) => m.to.includes(`${userId}@example.org`))
  if (!mail) throw new Error(`no mail for ${userId}`)
  const html = String(mail.parsed.html)
  const paths = [...html.matchAll(/(?:href|src)="http:\/\/localhost:3000(\/[^"]+)"/g)].map((m) =>
    m[1]!.replaceAll('&amp;', '&'),
  )
  const find = (prefix: string) => {
    const p = paths.find((x) => x.startsWith(prefix))
    if (!p) throw new Error(`no ${prefix} link in ${userId}'s mail`)
    return p
  }
  return { pixel: find('/o/'), click: find('/c/'), unsubscribe: find('/u/') }
}

const zero = {
  messages: 0,
  sent: 0,
  delivered: 0,
  bounced: 0,
  opened: 0,
  botOpened: 0,
  clicked: 0,
  botClicked: 0,
  converted: 0,
  unsubscribed: 0,
  openRate: null,
  ctr: null,
  conversionRate: null,
  unsubscribeRate: null,
  bounceRate: null,
}

// Seven mails (fay booked before the reminder): hal's refused, six delivered.
const mail = {
  channel: 'email',
  template: 'finish-your-booking',
  messages: 7,
  sent: 7,
  delivered: 6,
  bounced: 1,
  opened: 3,
  botOpened: 1,
  clicked: 2,
  botClicked: 1,
  converted: 2,
  unsubscribed: 1,
  openRate: 3 / 6,
  ctr: 2 / 6,
  conversionRate: 2 / 6,
  unsubscribeRate: 1 / 6,
  bounceRate: 1 / 7,
}
// The push channel is not configured here: all seven failed and reached no one.
const push = { ...zero, channel: 'push', template: 'finish-your-booking-push', messages: 7 }

describeEachDriver('messaging metrics', (driver) => {
  let world: World
  let smtp: SmtpPeer
  let app: FastifyInstance
  let auth: { authorization: string }

  const get = async (url: string, headers = auth) => {
    const res = await app.inject({ method: 'GET', url, headers })
    return { status: res.statusCode, body: res.json() }
  }
  const hit = (url: string, ua: string) => app.inject({ method: 'GET', url, headers: { 'user-agent': ua } })

  beforeAll(async () => {
    smtp = await startSmtp({
      onRcptTo(address, _session, cb) {
        if (address.address === 'hal@example.org')
          return cb(Object.assign(new Error('No such user'), { responseCode: 550 }))
        cb()
      },
    })
    world = await makeWorld(driver, '2026-03-02T10:00:00Z')
    await putChannelConfig(
      world.db,
      'default',
      'email',
      { url: smtp.url, from: 'Rides <hello@rides.example>' },
      world.clock.now(),
    )
    await world.publish('abandoned-booking')
    for (const u of MEMBERS) {
      await world.identify(u, { email: `${u}@example.org`, first_name: u })
      await world.track(u, 'Trip Searched', { trip_id: `T-${u}` })
    }
    // fay books before the reminder: her run converts, but no message is credited.
    await world.runUntil('2026-03-02T10:10:00Z')
    await world.track('fay', 'Booking Completed', { trip_id: 'T-fay' })
    await world.runUntil('2026-03-02T11:00:00Z')

    app = await buildApp({ db: world.db, log: silentLogger, clock: world.clock })
    await app.ready()
    auth = { authorization: `Bearer ${(await createKey(world.db, 'default', 'admin')).secret}` }

    const links = Object.fromEntries(
      MEMBERS.filter((u) => !['fay', 'hal'].includes(u)).map((u) => [u, linksOf(smtp, u)]),
    )
    // ann opens twice; bob opens and clicks; cat clicks with images off (the click is her open).
    await hit(links['ann']!.pixel, BROWSER_UA)
    await hit(links['ann']!.pixel, BROWSER_UA)
    await hit(links['bob']!.pixel, BROWSER_UA)
    expect((await hit(links['bob']!.click, BROWSER_UA)).statusCode).toBe(302)
    await hit(links['cat']!.click, BROWSER_UA)
    // eve's mail scanner fetches the pixel and follows the link; eve never looks.
    await hit(links['eve']!.pixel, SCANNER_UA)
    await hit(links['eve']!.click, SCANNER_UA)
    // dan unsubscribes from the link in the mail, twice: one unsubscribe.
    for (let i = 0; i < 2; i++) {
      const res = await app.inject({
        method: 'POST',
        url: links['dan']!.unsubscribe,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: '',
      })
      expect(res.statusCode).toBe(200)
    }
    // bob and cat book within the goal's 7 days; gus a day after it closed.
    await world.runUntil('2026-03-04T09:00:00Z')
    await world.track('bob', 'Booking Completed', { trip_id: 'T-bob' })
    await world.track('cat', 'Booking Completed', { trip_id: 'T-cat' })
    await world.runUntil('2026-03-10T10:00:00Z')
    await world.track('gus', 'Booking Completed', { trip_id: 'T-gus' })
    await world.runUntil('2026-03-10T12:00:00Z')
  })
  afterAll(async () => {
    await app.close()
    await world.close()
    await smtp.close()
  })

  it('the world did what the scenario says: runs converted, mails refused and sent', async () => {
    const runs = await world.db.query<{ user_id: string; status: string }>(
      `SELECT p.user_id, r.status FROM journey_runs r
       JOIN profiles p ON p.workspace_id = r.workspace_id AND p.profile_id = r.profile_id ORDER BY p.user_id`,
    )
    expect(runs.map((r) => `${r.user_id} ${r.status}`)).toEqual([
      'ann completed',
      'bob converted',
      'cat converted',
      'dan completed',
      'eve completed',
      'fay converted',
      'gus completed',
      'hal completed',
    ])
    expect(smtp.received.map((m) => m.to[0]).sort()).toEqual(
      ['ann', 'bob', 'cat', 'dan', 'eve', 'gus'].map((u) => `${u}@example.org`),
    )
  })

  it('the conversion is credited to the last message that reached the member, when the run converts', async () => {
    const rows = await world.db.query<{ user_id: string; template: string; converted_at: Date }>(
      `SELECT p.user_id, m.template, m.converted_at FROM messages m
       JOIN profiles p ON p.workspace_id = m.workspace_id AND p.profile_id = m.profile_id
       WHERE m.converted_at IS NOT NULL ORDER BY p.user_id`,
    )
    expect(rows.map((r) => `${r.user_id} ${r.template} ${r.converted_at.toISOString()}`)).toEqual([
      'bob finish-your-booking 2026-03-04T09:00:00.000Z',
      'cat finish-your-booking 2026-03-04T09:00:00.000Z',
    ])
  })

  it('GET /api/v1/metrics/journeys/{id}: totals and per step, each count and rate', async () => {
    const { status, body } = await get(
      '/api/v1/metrics/journeys/abandoned-booking?since=2026-03-01T00:00:00Z&until=2026-03-11T00:00:00Z',
    )
    expect(status).toBe(200)
    const { channel: _c, template: _t, ...mailCounts } = mail
    expect(body).toEqual({
      journeyId: 'abandoned-booking',
      period: { since: '2026-03-01T00:00:00.000Z', until: '2026-03-11T00:00:00.000Z' },
      totals: {
        ...mailCounts,
        messages: 14,
        // Rates over the journey: the push reached no one, so the same as the mail's.
        bounceRate: 1 / 7,
      },
      steps: [
        { stepId: 'mail', ...mail },
        { stepId: 'push', ...push },
      ],
    })
  })

  it('the period selects messages by when they were queued; by default the last 30 days', async () => {
    const before = await get(
      '/api/v1/metrics/journeys/abandoned-booking?since=2026-03-01T00:00:00Z&until=2026-03-02T10:30:00Z',
    )
    expect(before.body.totals).toEqual(zero)
    expect(before.body.steps).toEqual([])
    const byDefault = await get('/api/v1/metrics/journeys/abandoned-booking')
    expect(byDefault.body.period).toEqual({
      since: '2026-02-08T12:00:00.000Z',
      until: '2026-03-10T12:00:00.000Z',
    })
    expect(byDefault.body.totals.converted).toBe(2)
  })

  it('GET /api/v1/metrics/templates/{name}: the template across journeys, per channel', async () => {
    const { channel: _c, template: _t, ...counts } = mail
    const { status, body } = await get('/api/v1/metrics/templates/finish-your-booking')
    expect(status).toBe(200)
    expect(body.template).toBe('finish-your-booking')
    expect(body.totals).toEqual(counts)
    expect(body.channels).toEqual([{ channel: 'email', ...counts }])
    // A stored template nobody was sent yet: zeros and no rates.
    const unused = await get('/api/v1/metrics/templates/welcome')
    expect(unused.status).toBe(200)
    expect(unused.body.totals).toEqual(zero)
  })

  it('GET /api/v1/metrics/channels: one row per channel', async () => {
    const { template: _m, ...email } = mail
    const { template: _p, ...pushRow } = push
    const { status, body } = await get('/api/v1/metrics/channels')
    expect(status).toBe(200)
    expect(body.channels).toEqual([email, pushRow])
  })

  it('unknown journeys and templates are 404, a reversed period 400, another workspace sees nothing', async () => {
    const journey = await get('/api/v1/metrics/journeys/nope')
    expect(journey.status).toBe(404)
    expect(journey.body.error.code).toBe('NUDGE_ERR_NOT_FOUND')
    const template = await get('/api/v1/metrics/templates/nope')
    expect(template.status).toBe(404)
    expect(template.body.error.message).toBe('No template is named "nope"')
    const reversed = await get(
      '/api/v1/metrics/channels?since=2026-03-05T00:00:00Z&until=2026-03-01T00:00:00Z',
    )
    expect(reversed.status).toBe(400)
    expect(reversed.body.error.code).toBe('NUDGE_ERR_VALIDATION')
    expect(reversed.body.error.issues).toEqual([{ path: 'query.since', message: 'must be before until' }])
    const other = { authorization: `Bearer ${await otherWorkspace(world.db)}` }
    expect((await get('/api/v1/metrics/channels', other)).body.channels).toEqual([])
    expect((await get('/api/v1/metrics/journeys/abandoned-booking', other)).status).toBe(404)
  })

  it('is documented in the OpenAPI document', async () => {
    const { body } = await get('/api/openapi.json')
    const paths = Object.keys(body.paths).filter((p) => p.startsWith('/api/v1/metrics'))
    expect(paths.sort()).toEqual([
      '/api/v1/metrics/channels',
      '/api/v1/metrics/journeys/{id}',
      '/api/v1/metrics/templates/{name}',
    ])
    const op = body.paths['/api/v1/metrics/journeys/{id}'].get
    expect(op.operationId).toBe('journeyMetrics')
    expect(op.parameters.map((p: { name: string }) => p.name).sort()).toEqual(['id', 'since', 'until'])
  })
})
