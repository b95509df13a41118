// The dispatcher end to end on a real database and real peers: the example journeys'
// mail reaches an SMTP server (read back with a mail parser), guards decide on a fake
// clock, failed sends are retried with the same idempotency key, and a dead peer ends
// as a failed message with its reason.
import { tmpdir } from 'node:os'
import { afterEach, describe, expect, it } from 'vitest'
import type { TemplateDefinition } from '../../src/domain/templates/types.ts'
import { silentLogger } from '../../src/log.ts'
import { makeChannelPool } from '../../src/runtime/dispatch/channel-pool.ts'
import { type DispatcherOptions, makeDispatcher } from '../../src/runtime/dispatcher.ts'
import { putChannelConfig } from '../../src/store/channel-configs.ts'
import { claimDueMessages, enqueueMessages, getMessage, nextMessageAt } from '../../src/store/messages.ts'
import { saveTemplates } from '../../src/store/workspace-templates.ts'
import { closedPort, type HttpPeer, type SmtpPeer, startHttp, startSmtp } from '../channels/peers.ts'
import { describeEachDriver } from '../helpers/db.ts'
import { makeWorld, type World } from '../helpers/world.ts'

const header = (raw: string, name: string) =>
  new RegExp(`^${name}:(.*(?:\\r?\\n[ \\t].*)*)`, 'mi')
    .exec(raw)?.[1]
    ?.replace(/\r?\n[ \t]+/g, ' ')
    .trim()

describeEachDriver('dispatcher', (driver) => {
  let world: World
  const peers: Array<SmtpPeer | HttpPeer> = []
  afterEach(async () => {
    await world.close()
    for (const p of peers.splice(0)) await p.close()
  })

  async function mailWorld(start: string, smtpUrl?: string): Promise<{ world: World; smtp: SmtpPeer }> {
    const smtp = await startSmtp()
    peers.push(smtp)
    world = await makeWorld(driver, start)
    await putChannelConfig(
      world.db,
      'default',
      'email',
      { url: smtpUrl ?? smtp.url, from: 'Photo Club <hello@photoclub.example>' },
      world.clock.now(),
    )
    return { world, smtp }
  }

  async function statuses(): Promise<string[]> {
    const rows = await world.db.query<{ template: string; status: string; reason: string }>(
      'SELECT template, status, reason FROM messages ORDER BY created_at, template',
    )
    return rows.map((r) => `${r.template} ${r.status}`)
  }

  async function eventNames(prefix: string): Promise<string[]> {
    const rows = await world.db.query<{ name: string; template: string }>(
      `SELECT name, payload -> 'properties' ->> 'template' AS template FROM events WHERE name LIKE $1 ORDER BY seq`,
      [`${prefix}%`],
    )
    return rows.map((r) => `${r.name} ${r.template}`)
  }

  it('welcome-series: four personalised mails over nine days, with one-click unsubscribe', async () => {
    const { smtp } = await mailWorld('2026-03-02T10:00:00Z')
    await world.publish('welcome-series')
    await world.identify('ann', { email: 'ann@example.com', first_name: 'Ann' })
    await world.track('ann', 'Signed Up')
    await world.runUntil('2026-03-12T00:00:00Z')
    expect(smtp.received.map((r) => [r.to.join(','), r.parsed.subject])).toEqual([
      ['ann@example.com', 'Welcome to Photo Club, Ann'],
      ['ann@example.com', expect.any(String)],
      ['ann@example.com', expect.any(String)],
      ['ann@example.com', expect.any(String)],
    ])
    const welcome = smtp.received[0]!
    expect(welcome.parsed.html).toContain('Hi Ann,')
    expect(header(welcome.raw, 'List-Unsubscribe')).toMatch(/^<http:\/\/localhost:3000\/u\/[^>]+>$/)
    expect(header(welcome.raw, 'List-Unsubscribe-Post')).toBe('List-Unsubscribe=One-Click')
    expect(welcome.parsed.from?.value[0]).toMatchObject({
      name: 'Photo Club',
      address: 'hello@photoclub.example',
    })
    expect(await statuses()).toEqual([
      'welcome sent',
      'newcomer-1-find-your-way sent',
      'newcomer-2-first-post sent',
      'newcomer-3-meet-the-regulars sent',
    ])
    expect(await eventNames('Message Sent')).toEqual([
      'Message Sent welcome',
      'Message Sent newcomer-1-find-your-way',
      'Message Sent newcomer-2-first-post',
      'Message Sent newcomer-3-meet-the-regulars',
    ])
    // The run's trace says what the dispatcher did with its message.
    const trace = await world.db.query<{ message: string }>(
      `SELECT message FROM journey_trace WHERE kind = 'message' ORDER BY at, seq LIMIT 1`,
    )
    expect(trace[0]?.message).toMatch(/^email:welcome sent: handed to email/)
  })

  it('feedback-ask: plain text from a person, Reply-To the person, in the morning three days later', async () => {
    const { smtp } = await mailWorld('2026-03-02T10:00:00Z')
    await world.publish('feedback-ask')
    await world.identify('ann', { email: 'ann@example.com', first_name: 'Ann' })
    await world.track('ann', 'Signed Up')
    await world.runUntil('2026-03-10T00:00:00Z')
    expect(smtp.received).toHaveLength(1)
    const mail = smtp.received[0]!
    expect(mail.parsed.from?.value[0]).toMatchObject({
      name: 'Camille from the community',
      address: 'camille@example.org',
    })
    expect(mail.parsed.replyTo?.text).toBe('camille@example.org')
    expect(mail.parsed.html).toBe(false)
    expect(mail.parsed.text).toContain('Hi Ann,')
    expect(header(mail.raw, 'List-Unsubscribe-Post')).toBe('List-Unsubscribe=One-Click')
    const sent = await world.db.query<{ sent_at: Date }>('SELECT sent_at FROM messages')
    // Three days after 11:00 in Paris is the end of the 09:00–11:00 window: the next morning
    // at 09:00 in Paris (UTC+1 in March).
    expect(sent.map((r) => r.sent_at.toISOString())).toEqual(['2026-03-06T08:00:00.000Z'])
  })

  it('rules-reminder: 50 identical moderation events for one member make exactly one mail', async () => {
    const { smtp } = await mailWorld('2026-03-02T10:00:00Z')
    await world.publish('rules-reminder')
    await world.identify('ann', { email: 'ann@example.com', first_name: 'Ann' })
    for (let i = 0; i < 50; i++) {
      await world.track('ann', 'Moderation Comment Received', {
        comment: 'read-the-rules',
        comment_id: 'c-1',
      })
    }
    await world.runUntil('2026-03-03T00:00:00Z')
    expect(smtp.received.map((r) => r.parsed.subject)).toEqual(['A reminder of the Photo Club charter'])
    // A service message: no unsubscribe headers.
    expect(header(smtp.received[0]!.raw, 'List-Unsubscribe')).toBeUndefined()
  })

  it('quiet hours postpone a marketing mail to 08:00 in each member’s own timezone', async () => {
    const { smtp } = await mailWorld('2026-03-02T21:30:00Z')
    await world.publish('welcome-series')
    await world.identify('ann', { email: 'ann@example.com', timezone: 'Europe/Paris' })
    await world.identify('bob', { email: 'bob@example.com', timezone: 'America/New_York' })
    await world.track('ann', 'Signed Up')
    await world.track('bob', 'Signed Up')
    // 22:30 in Paris: quiet. 16:30 in New York: goes at once.
    expect(smtp.received.map((r) => r.to[0])).toEqual(['bob@example.com'])
    const deferred = await world.db.query<{ status: string; not_before: Date; reason: string }>(
      `SELECT status, not_before, reason FROM messages m JOIN profiles p USING (workspace_id, profile_id)
       WHERE p.user_id = 'ann'`,
    )
    expect(deferred.map((r) => [r.status, r.not_before.toISOString()])).toEqual([
      ['queued', '2026-03-03T07:00:00.000Z'],
    ])
    expect(deferred[0]?.reason).toContain('postponed to 2026-03-03 08:00 Europe/Paris')
    await world.runUntil('2026-03-03T12:00:00Z')
    expect(smtp.received.map((r) => r.to[0])).toEqual(['bob@example.com', 'ann@example.com'])
    const sent = await world.db.query<{ sent_at: Date }>(
      `SELECT sent_at FROM messages m JOIN profiles p USING (workspace_id, profile_id) WHERE p.user_id = 'ann'`,
    )
    expect(sent[0]?.sent_at.toISOString()).toBe('2026-03-03T07:00:00.000Z')
  })

  it('an SMTP server answering 4xx then accepting: one mail, on the second attempt', async () => {
    let refusals = 1
    const smtp = await startSmtp({
      onMailFrom(_address, _session, cb) {
        if (refusals-- > 0)
          return cb(Object.assign(new Error('Greylisted, try again later'), { responseCode: 451 }))
        cb()
      },
    })
    peers.push(smtp)
    await mailWorld('2026-03-02T10:00:00Z', smtp.url)
    await world.publish('welcome-series')
    await world.identify('ann', { email: 'ann@example.com' })
    await world.track('ann', 'Signed Up')
    const waiting = await world.db.query<{ status: string; attempts: number; last_error: string }>(
      'SELECT status, attempts, last_error FROM messages',
    )
    expect(waiting).toEqual([
      { status: 'queued', attempts: 1, last_error: expect.stringContaining('Greylisted') },
    ])
    await world.runUntil('2026-03-02T10:10:00Z')
    expect(smtp.received.map((r) => r.parsed.subject)).toEqual([
      'Welcome to Photo Club, and thank you for joining',
    ])
    expect(await world.db.query('SELECT status, attempts FROM messages')).toEqual([
      { status: 'sent', attempts: 2 },
    ])
  })

  it('a dead SMTP server: failed after every attempt, with the reason on the message and an event', async () => {
    await mailWorld('2026-03-02T10:00:00Z', `smtp://127.0.0.1:${await closedPort()}`)
    await world.publish('welcome-series')
    await world.identify('ann', { email: 'ann@example.com' })
    await world.track('ann', 'Signed Up')
    await world.runUntil('2026-03-03T09:00:00Z')
    const [m] = await world.db.query<{
      status: string
      attempts: number
      reason: string
      last_error: string
    }>(`SELECT status, attempts, reason, last_error FROM messages WHERE template = 'welcome'`)
    expect(m).toMatchObject({ status: 'failed', attempts: 8 })
    expect(m?.reason).toMatch(/^gave up after 8 attempts: SMTP connection failed \(ECONNREFUSED\)/)
    expect(m?.last_error).toContain('ECONNREFUSED')
    expect(await eventNames('Message Failed')).toEqual(['Message Failed welcome'])
  })

  it('a refused recipient is a hard bounce: suppressed from then on', async () => {
    const smtp = await startSmtp({ refuseRcpt: { code: 550, text: 'No such user' } })
    peers.push(smtp)
    await mailWorld('2026-03-02T10:00:00Z', smtp.url)
    await world.publish('welcome-series')
    await world.identify('ann', { email: 'ann@example.com' })
    await world.track('ann', 'Signed Up')
    await world.runUntil('2026-03-05T00:00:00Z')
    expect(await statuses()).toEqual(['welcome bounced', 'newcomer-1-find-your-way suppressed'])
    expect(await eventNames('Message Bounced')).toEqual(['Message Bounced welcome'])
  })

  describe('outbox rows', () => {
    async function profileOf(userId: string): Promise<string> {
      const rows = await world.db.query<{ profile_id: string }>(
        'SELECT profile_id FROM profiles WHERE user_id = $1',
        [userId],
      )
      return rows[0]!.profile_id
    }
    /** A world with one template and the member ann in it. */
    async function annWith(
      template: TemplateDefinition,
      traits: Record<string, unknown> = {},
    ): Promise<void> {
      world = await makeWorld(driver, '2026-03-02T10:00:00Z')
      await saveTemplates(world.db, 'default', [template], world.clock.now())
      await world.identify('ann', traits)
    }
    const hello: TemplateDefinition = {
      name: 'hello',
      channel: 'in_app',
      category: 'transactional',
      text: 'Hello',
    }

    async function enqueue(
      id: string,
      channel: string,
      template: string,
      userId = 'ann',
      payload: Record<string, unknown> = {},
    ): Promise<void> {
      await enqueueMessages(world.db, [
        {
          workspaceId: 'default',
          profileId: await profileOf(userId),
          messageId: id,
          journeyId: 'j-test',
          runId: 'r-test',
          stepId: 's-1',
          channel,
          template,
          payload: { transactional: true, ...payload },
          notBefore: world.clock.now(),
          createdAt: world.clock.now(),
        },
      ])
    }

    /** A dispatcher of another worker on the same outbox. */
    const otherDispatcher = (workerId: string, opts: Partial<DispatcherOptions>) =>
      makeDispatcher({
        db: world.db,
        clock: world.clock,
        log: silentLogger,
        workerId,
        channels: makeChannelPool({ clock: world.clock, dataDir: tmpdir() }, {}),
        publicUrl: 'http://localhost:3000',
        ...opts,
      })

    it('two workers draining the same outbox send every message once, and a dedupe key once', async () => {
      const http = await startHttp()
      peers.push(http)
      await annWith({ name: 'ping', channel: 'webhook', category: 'transactional', text: 'Hi' })
      const hook = { url: `${http.url}/hook`, secret: 's'.repeat(24) }
      await putChannelConfig(world.db, 'default', 'webhook', hook, world.clock.now())
      const members = Array.from({ length: 12 }, (_, i) => `m${i}`)
      for (const m of members) await world.identify(m, {})
      for (const m of members) await enqueue(`msg-${m}`, 'webhook', 'ping', m)
      // Ten triggers of the same reminder for ann, with one dedupe key.
      for (let i = 0; i < 10; i++)
        await enqueue(`msg-ann-${i}`, 'webhook', 'ping', 'ann', { dedupeKey: 'reminder' })
      const second = otherDispatcher('second', { batchSize: 3 })
      const [a, b] = await Promise.all([world.workers.dispatcher.drain(), second.drain()])
      expect(a + b).toBe(22)
      const keys = http.requests.map((r) => String(r.headers['idempotency-key']))
      expect(keys.filter((k) => k.startsWith('msg-m')).sort()).toEqual(members.map((m) => `msg-${m}`).sort())
      expect(keys.filter((k) => k.startsWith('msg-ann'))).toHaveLength(1)
      const counts = await world.db.query<{ status: string; n: number }>(
        'SELECT status, count(*)::int AS n FROM messages GROUP BY status ORDER BY status',
      )
      expect(counts).toEqual([
        { status: 'deduplicated', n: 9 },
        { status: 'sent', n: 13 },
      ])
      await second.stop()
    })

    /** ann and a webhook peer, the webhook channel limited to `perSecond` with `burst`. */
    async function rateLimitedWebhook(perSecond: number, burst: number): Promise<HttpPeer> {
      const http = await startHttp()
      peers.push(http)
      await annWith({ name: 'ping', channel: 'webhook', category: 'transactional', text: 'Hi' })
      await putChannelConfig(
        world.db,
        'default',
        'webhook',
        { url: `${http.url}/hook`, secret: 's'.repeat(24) },
        world.clock.now(),
      )
      await world.db.query(`UPDATE workspaces SET settings = settings || $1::jsonb WHERE id = 'default'`, [
        JSON.stringify({ guards: { rateLimits: { webhook: { perSecond, burst } } } }),
      ])
      return http
    }

    it('over a rate limit, messages wait holding their slots, undecided, and send on them once due', async () => {
      const http = await rateLimitedWebhook(1, 2)
      const members = Array.from({ length: 5 }, (_, i) => `m${i}`)
      for (const m of members) await world.identify(m, {})
      for (const m of members) await enqueue(`msg-${m}`, 'webhook', 'ping', m)
      const start = world.clock.now().getTime()
      const dispatcher = otherDispatcher('rated', { maxRateWaitMs: 0 })
      const tat = async () =>
        Number((await world.db.query<{ tat: number }>('SELECT tat FROM channel_rate_limits'))[0]?.tat)
      const waiting = () =>
        world.db.query<{ id: string; slot: Date | null; decided: Date | null }>(
          `SELECT message_id AS id, rate_slot_at AS slot, decided_at AS decided FROM messages
           WHERE status = 'queued' ORDER BY not_before`,
        )
      // The burst of two goes at once; the three others wait 1, 2 and 3 s, not yet decided.
      await dispatcher.drain()
      expect(http.requests).toHaveLength(2)
      expect(await tat()).toBe(start + 5000)
      expect((await waiting()).map((w) => [w.slot?.getTime(), w.decided])).toEqual([
        [start + 1000, null],
        [start + 2000, null],
        [start + 3000, null],
      ])
      const [first] = await waiting()
      const trace = await world.db.query<{ message: string }>(
        `SELECT message FROM journey_trace WHERE kind = 'message' AND data ->> 'messageId' = $1`,
        [first?.id],
      )
      expect(trace.map((t) => t.message)).toEqual([
        `webhook:ping waits: rate limited: webhook at most 1/s, next slot ${new Date(start + 1000).toISOString()}`,
      ])
      // Each is sent on the slot it holds: nothing more is reserved.
      world.clock.set(start + 1000)
      await dispatcher.drain()
      expect(http.requests).toHaveLength(3)
      world.clock.set(start + 3000)
      await dispatcher.drain()
      expect(http.requests).toHaveLength(5)
      expect(await tat()).toBe(start + 5000)
      expect(await waiting()).toEqual([])
      await dispatcher.stop()
    })

    it('once it knows a channel is limited, a backlog there waits untouched, claimed as fast as its slots come', async () => {
      const http = await rateLimitedWebhook(10, 1)
      const members = Array.from({ length: 12 }, (_, i) => `m${i}`)
      for (const m of members) await world.identify(m, {})
      // (Events are sent first: the world drains its own dispatcher after each.)
      await world.identify('ann', { email: 'ann@example.com' })
      await saveTemplates(
        world.db,
        'default',
        [
          { name: 'ping', channel: 'webhook', category: 'transactional', text: 'Hi' },
          { name: 'note', channel: 'email', category: 'transactional', subject: 'Note', text: 'Hi' },
        ],
        world.clock.now(),
      )
      await enqueue('msg-first', 'webhook', 'ping', 'ann')
      const dispatcher = otherDispatcher('paced', {})
      const start = world.clock.now().getTime()
      const tat = async () =>
        Number(
          (
            await world.db.query<{ tat: number }>(
              `SELECT tat FROM channel_rate_limits WHERE channel = 'webhook'`,
            )
          )[0]?.tat,
        )
      // The first pass learns the limit from the workspace it claims for.
      await dispatcher.drain()
      expect(http.requests).toHaveLength(1)
      // A millisecond apart, so that the order they are claimed in is theirs.
      for (const m of members) {
        world.clock.advance(1)
        await enqueue(`msg-${m}`, 'webhook', 'ping', m)
      }
      await enqueue('msg-mail', 'email', 'note', 'ann', { dedupeKey: 'note' })
      await dispatcher.drain()
      // At 10/s, the slots within 250 ms: 100 ms after the first message, then 200 ms. The
      // mail, on a channel without a limit, goes in the same pass.
      expect(http.requests).toHaveLength(3)
      expect((await getMessage(world.db, 'default', 'msg-mail'))?.status).toBe('sent')
      const untouched = await world.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM messages
         WHERE status = 'queued' AND rate_slot_at IS NULL AND decided_at IS NULL AND lease_owner IS NULL
           AND not_before > $1`,
        [new Date(start)],
      )
      expect(untouched[0]?.n).toBe(10)
      const deferred = await world.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM journey_trace WHERE kind = 'message' AND message LIKE '%waits%'`,
      )
      expect(deferred[0]?.n).toBe(0)
      // The dispatcher would sleep until the channel frees up (its next slot within 250 ms),
      // not try again at once.
      expect(await tat()).toBe(start + 300)
      const next = await nextMessageAt(world.db, world.clock.now(), {
        limits: [{ workspaceId: 'default', channel: 'webhook', perSecond: 10, burst: 1 }],
        maxWaitMs: 250,
      })
      expect(next?.getTime()).toBe(start + 50)
      // Each later pass claims what the slots within 250 ms let go (three at 10/s once the
      // channel is idle again), in the order queued, until the backlog is gone.
      const sentBy: number[] = []
      for (let t = 1; t <= 10 && http.requests.length < 13; t++) {
        world.clock.set(start + t * 1000)
        await dispatcher.drain()
        sentBy.push(http.requests.length)
      }
      expect(sentBy).toEqual([6, 9, 12, 13])
      expect(http.requests.map((r) => String(r.headers['idempotency-key']))).toEqual([
        'msg-first',
        ...members.map((m) => `msg-${m}`),
      ])
      expect(await tat()).toBe(start + 4100)
      await dispatcher.stop()
    })

    it('when its slots cannot be reserved, a batch goes back to the queue for 30 s, not sent', async () => {
      const http = await rateLimitedWebhook(10, 10)
      for (const m of ['m1', 'm2']) await world.identify(m, {})
      for (const m of ['m1', 'm2']) await enqueue(`msg-${m}`, 'webhook', 'ping', m)
      const start = world.clock.now().getTime()
      await world.db.exec('ALTER TABLE channel_rate_limits RENAME TO channel_rate_limits_away')
      await world.workers.dispatcher.drain()
      expect(http.requests).toHaveLength(0)
      const rows = await world.db.query<{ status: string; nb: Date; owner: string | null; error: string }>(
        `SELECT status, not_before AS nb, lease_owner AS owner, last_error AS error FROM messages ORDER BY message_id`,
      )
      expect(rows.map((r) => [r.status, r.nb.getTime() - start, r.owner])).toEqual([
        ['queued', 30_000, null],
        ['queued', 30_000, null],
      ])
      expect(rows[0]?.error).toContain('channel_rate_limits')
      await world.db.exec('ALTER TABLE channel_rate_limits_away RENAME TO channel_rate_limits')
      world.clock.advance(30_000)
      await world.workers.dispatcher.drain()
      expect(http.requests).toHaveLength(2)
    })

    it('a message whose held slot has come is claimed before a backlog of new messages due earlier', async () => {
      await annWith(hello)
      for (const id of ['new-1', 'new-2', 'new-3']) await enqueue(id, 'in_app', 'hello')
      const slot = new Date(world.clock.now().getTime() + 5_000)
      await enqueue('held', 'in_app', 'hello')
      await world.db.query(
        `UPDATE messages SET not_before = $1, rate_slot_at = $1 WHERE message_id = 'held'`,
        [slot],
      )
      world.clock.set(slot)
      const first = await claimDueMessages(world.db, 'w', world.clock.now(), 2, 60_000)
      // Of the two claimed, one is the held message, its slot read back with it.
      expect(first.map((m) => [m.messageId, m.rateSlotAt]).sort()).toEqual([
        ['held', slot],
        ['new-1', null],
      ])
      const rest = await claimDueMessages(world.db, 'w', world.clock.now(), 5, 60_000)
      expect(rest.map((m) => m.messageId)).toEqual(['new-2', 'new-3'])
    })

    it('a world run through time sends a limited backlog at the rate, its dispatcher saying when to come back', async () => {
      const http = await rateLimitedWebhook(10, 1)
      const members = Array.from({ length: 5 }, (_, i) => `m${i}`)
      for (const m of members) await world.identify(m, {})
      await enqueue('msg-first', 'webhook', 'ping', 'ann')
      await world.workers.drain()
      const start = world.clock.now().getTime()
      for (const m of members) await enqueue(`msg-${m}`, 'webhook', 'ping', m)
      await world.runUntil(new Date(start + 60_000).toISOString())
      expect(http.requests).toHaveLength(6)
    })

    it('a claim takes of a limited channel what its burst and the next 250 ms let go, and says when to come back', async () => {
      await annWith(hello)
      const ids = Array.from({ length: 8 }, (_, i) => `b-${i}`)
      for (const id of ids) {
        world.clock.advance(1)
        await enqueue(id, 'in_app', 'hello')
      }
      const now = world.clock.now()
      const limits = [{ workspaceId: 'default', channel: 'in_app', perSecond: 10, burst: 3 }]
      // Idle channel, 100 ms apart with a burst of 3 (200 ms of tolerance): the slots within
      // 250 ms are those of the first five.
      const first = await claimDueMessages(world.db, 'w', now, 200, 60_000, { limits, maxWaitMs: 250 })
      expect(first.map((m) => m.messageId)).toEqual(ids.slice(0, 5))
      await world.db.query(
        `INSERT INTO channel_rate_limits (workspace_id, channel, tat) VALUES ('default', 'in_app', $1)`,
        [now.getTime() + 500],
      )
      // Their slots reserved, none is left within 250 ms: nothing more, until 50 ms from now.
      expect(await claimDueMessages(world.db, 'w', now, 200, 60_000, { limits, maxWaitMs: 250 })).toEqual([])
      expect((await nextMessageAt(world.db, now, { limits, maxWaitMs: 250 }))?.getTime()).toBe(
        now.getTime() + 50,
      )
      // Without the limit, the rest is claimed.
      const rest = await claimDueMessages(world.db, 'w', now, 200, 60_000)
      expect(rest.map((m) => m.messageId)).toEqual(ids.slice(5))
    })

    it('a rate-limit slot missed by far (the workers were stopped) is given up for a new one', async () => {
      const http = await rateLimitedWebhook(1, 1)
      await enqueue('msg-late', 'webhook', 'ping')
      const start = world.clock.now().getTime()
      // It held a slot a minute ago, and nobody sent it then.
      await world.db.query(`UPDATE messages SET rate_slot_at = $1`, [new Date(start - 60_000)])
      const dispatcher = otherDispatcher('late', { maxRateWaitMs: 0 })
      await dispatcher.drain()
      expect(http.requests).toHaveLength(1)
      const [row] = await world.db.query<{ tat: number; slot: Date | null }>(
        `SELECT r.tat, m.rate_slot_at AS slot FROM channel_rate_limits r, messages m`,
      )
      expect([Number(row?.tat), row?.slot]).toEqual([start + 1000, null])
      await dispatcher.stop()
    })

    it('a webhook answering 500 then 200: delivered once more with the same Idempotency-Key', async () => {
      const http = await startHttp()
      peers.push(http)
      let failures = 1
      http.respond = (_req, res) => {
        res.statusCode = failures-- > 0 ? 500 : 200
        res.end()
      }
      await annWith(
        {
          name: 'ping',
          channel: 'webhook',
          category: 'transactional',
          text: 'Hi {{ profile.traits.first_name }}',
        },
        { first_name: 'Ann' },
      )
      const hook = { url: `${http.url}/hook`, secret: 's'.repeat(24) }
      await putChannelConfig(world.db, 'default', 'webhook', hook, world.clock.now())
      await enqueue('msg-hook-1', 'webhook', 'ping')
      await world.runUntil('2026-03-02T10:10:00Z')
      expect(http.requests.map((r) => r.headers['idempotency-key'])).toEqual(['msg-hook-1', 'msg-hook-1'])
      expect(JSON.parse(http.requests[1]!.body.toString()).content.text).toBe('Hi Ann')
      expect(await getMessage(world.db, 'default', 'msg-hook-1')).toMatchObject({
        status: 'sent',
        attempts: 2,
      })
    })

    it('quiet hours in drop mode drop a marketing message, with the reason', async () => {
      await annWith({ name: 'tip', channel: 'email', category: 'marketing', subject: 'Tip', text: 'A tip' })
      await world.db.query(`UPDATE workspaces SET settings = $1 WHERE id = 'default'`, [
        JSON.stringify({ guards: { quietHours: { mode: 'drop' } } }),
      ])
      world.clock.set('2026-03-02T22:15:00Z')
      await enqueue('msg-tip', 'email', 'tip', 'ann', { transactional: false })
      await world.workers.drain()
      const m = await getMessage(world.db, 'default', 'msg-tip')
      expect(m).toMatchObject({
        status: 'dropped',
        reason:
          'dropped: 2026-03-02 22:15 UTC is within quiet hours 21:00–08:00 (member has no timezone, used UTC)',
      })
      expect(m?.verdicts.map((v) => `${v.guard}:${v.result}`)).toEqual([
        'suppression:passed',
        'subscription:passed',
        'dedupe:passed',
        'frequency_cap:passed',
        'quiet_hours:blocked',
      ])
    })

    it('a missing template variable is a recorded, traced failure', async () => {
      await annWith(
        {
          name: 'nick',
          channel: 'in_app',
          category: 'transactional',
          text: 'Hi {{ profile.traits.nickname }}',
        },
        { first_name: 'Ann' },
      )
      await enqueue('msg-nick', 'in_app', 'nick')
      await world.workers.drain()
      const m = await getMessage(world.db, 'default', 'msg-nick')
      expect(m?.status).toBe('failed')
      expect(m?.reason).toContain(
        'the variable "profile.traits.nickname" is missing in the text of template "nick"',
      )
      const trace = await world.db.query<{ message: string }>(
        `SELECT message FROM journey_trace WHERE run_id = 'r-test'`,
      )
      expect(trace.map((t) => t.message)).toEqual([
        expect.stringContaining('in_app:nick failed: the variable'),
      ])
    })

    it('a crashed worker’s claim runs out and another worker sends the message', async () => {
      await annWith(hello)
      await enqueue('msg-lease', 'in_app', 'hello')
      // Another process claims it and dies without settling.
      expect(await claimDueMessages(world.db, 'dead-worker', world.clock.now(), 10, 60_000)).toHaveLength(1)
      expect(await world.workers.dispatcher.drain()).toBe(0)
      world.clock.advance(61_000)
      expect(await world.workers.dispatcher.drain()).toBe(1)
      expect(await getMessage(world.db, 'default', 'msg-lease')).toMatchObject({ status: 'sent' })
      const inbox = await world.db.query<{ body: string }>('SELECT body FROM in_app_messages')
      expect(inbox).toEqual([{ body: 'Hello' }])
    })

    it('a running dispatcher wakes on the outbox notification, with no polling', async () => {
      await annWith(hello)
      await world.workers.dispatcher.start()
      // Let the loop go to sleep first (its fallback sleep is seconds long).
      await new Promise((r) => setTimeout(r, 50))
      await enqueue('msg-wake', 'in_app', 'hello')
      for (let i = 0; i < 400; i++) {
        if ((await getMessage(world.db, 'default', 'msg-wake'))?.status === 'sent') break
        await new Promise((r) => setTimeout(r, 10))
      }
      expect((await getMessage(world.db, 'default', 'msg-wake'))?.status).toBe('sent')
    })
  })
})
