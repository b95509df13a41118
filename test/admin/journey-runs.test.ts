// GET /api/v1/profiles/{id}/journeys on runs and traces made by the real processor and
// scheduler (a world on a fake clock): what a community manager reads to answer "why?".
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { buildApp } from '../../src/http/app.ts'
import { silentLogger } from '../../src/log.ts'
import { createKey } from '../../src/store/workspaces.ts'
import { describeEachDriver } from '../helpers/db.ts'
import { makeWorld, type World } from '../helpers/world.ts'
import { runCli } from './cli-server.ts'
import { otherWorkspace } from './helpers.ts'

interface Answer {
  profile: { id: string; userId: string | null }
  journeys: {
    journeyId: string
    name: string
    runs: {
      status: string
      key: string
      startedAt: string
      endedAt: string | null
      currentStep: string | null
      waitingUntil: string | null
      messages: { stepId: string; status: string; error: string | null; waiting: string | null }[]
      trace: { kind: string; stepId: string | null; message: string }[]
    }[]
    skipped: { message: string }[]
    story: string[]
    why?: string[]
  }[]
}

describeEachDriver('GET /api/v1/profiles/{id}/journeys', (driver) => {
  let world: World
  let app: FastifyInstance
  let auth: { authorization: string }
  let env: Record<string, string>
  const cli = (...args: string[]) => runCli(args, env)

  const get = async (path: string) => {
    const res = await app.inject({ method: 'GET', url: path, headers: auth })
    return {
      status: res.statusCode,
      body: res.json() as Answer & { error?: { code: string; message: string } },
    }
  }

  beforeAll(async () => {
    world = await makeWorld(driver, '2026-03-02T10:00:00Z')
    await world.publish('welcome-series', 'abandoned-booking', 'rules-reminder')
    await world.identify('ann', { first_name: 'Ann', email: 'ann@example.org' })
    await world.identify('bob', { email: 'bob@example.org' })
    await world.track('ann', 'Signed Up')
    await world.track('bob', 'Signed Up')
    await world.track('bob', 'Trip Searched', { trip_id: 'T1' })
    await world.runUntil('2026-03-05T08:00:00Z')
    await world.track('bob', 'Unsubscribed')
    await world.track('bob', 'Moderation Comment Received', { comment: 'read-the-rules', comment_id: 'c1' })
    await world.track('bob', 'Moderation Comment Received', { comment: 'read-the-rules', comment_id: 'c2' })
    await world.track('bob', 'Moderation Comment Received', { comment: 'be-kind', comment_id: 'c3' })
    await world.runUntil('2026-03-06T12:00:00Z')
    // The dispatcher sent the mail to the local mailbox and held the push back (no push
    // channel in this workspace); a delivery report is what would mark a mail delivered.
    await world.db.query(
      `UPDATE messages SET status = 'delivered' WHERE template = 'newcomer-1-find-your-way'`,
    )
    auth = { authorization: `Bearer ${(await createKey(world.db, 'default', 'admin')).secret}` }
    app = await buildApp({ db: world.db, log: silentLogger })
    const url = await app.listen({ port: 0, host: '127.0.0.1' })
    env = { NUDGE_URL: url, NUDGE_ADMIN_KEY: auth.authorization.slice('Bearer '.length) }
  })
  afterAll(async () => {
    await app.close()
    await world.close()
  })

  it('tells each run of a person: entry, sends, delays and how it ended, with its trace', async () => {
    const { status, body } = await get('/api/v1/profiles/bob/journeys')
    expect(status).toBe(200)
    expect(body.profile.userId).toBe('bob')
    expect(body.journeys.map((j) => j.journeyId)).toEqual([
      'abandoned-booking',
      'rules-reminder',
      'welcome-series',
    ])
    const welcome = body.journeys.find((j) => j.journeyId === 'welcome-series')!
    expect(welcome.story).toEqual([
      'bob entered Welcome series on 2 March 2026 at 10:00 because of Signed Up; got welcome by email at 10:00; ' +
        'waited 2 days; got newcomer-1-find-your-way by email on 4 March at 10:00 (delivered); was to wait 3 days until 7 March at 10:00; ' +
        'exited on 5 March at 08:00: Unsubscribed.',
    ])
    expect(welcome.runs).toMatchObject([
      {
        status: 'exited',
        key: 'once',
        startedAt: '2026-03-02T10:00:00.000Z',
        endedAt: '2026-03-05T08:00:00.000Z',
      },
    ])
    expect(welcome.runs[0]!.trace.map((t) => `${t.kind} ${t.stepId}`)).toEqual([
      'entered null',
      'send welcome',
      'delayed wait-day-2',
      'message welcome',
      'send newcomer-1',
      'delayed wait-day-5',
      'message newcomer-1',
      'exited wait-day-5',
    ])
    const booking = body.journeys.find((j) => j.journeyId === 'abandoned-booking')!
    expect(booking.story[0]).toBe(
      'bob entered Abandoned booking on 2 March 2026 at 10:00 because of Trip Searched; ' +
        'waited for Booking Completed (up to 30 minutes); no Booking Completed within 30m at 10:30; ' +
        'got finish-your-booking by email at 10:30; did not get finish-your-booking-push by push at 10:30: ' +
        'failed (the push channel is not configured for this workspace (PUT /api/v1/channels/push)); ' +
        'is now at the goal window until 9 March at 10:00.',
    )
    const rules = body.journeys.find((j) => j.journeyId === 'rules-reminder')!
    expect(rules.runs.map((r) => r.key)).toEqual(['c1'])
    expect(rules.story[1]).toMatch(
      /^On 5 March 2026 at 08:00 the entry was skipped: at most 1 per 7d, last entered on 2026-03-05T08:00:00/,
    )
    expect(rules.skipped.map((s) => s.message)).toEqual([
      expect.stringMatching(/^skipped: at most 1 per 7d, last entered on 2026-03-05T08:00:00/),
    ])
  })

  it('says why a person never entered a journey: never did the trigger, or was skipped', async () => {
    const never = await get('/api/v1/profiles/ann/journeys?journey=abandoned-booking')
    expect(never.body.journeys).toEqual([
      expect.objectContaining({
        journeyId: 'abandoned-booking',
        runs: [],
        story: [
          'Ann never entered Abandoned booking.',
          'Ann never did Trip Searched, the event that starts it.',
        ],
      }),
    ])
    const rules = await get('/api/v1/profiles/ann/journeys?journey=rules-reminder')
    expect(rules.body.journeys[0]?.story[1]).toBe(
      'Ann never did Moderation Comment Received, the event that starts it.',
    )
  })

  it('answers "why did (not) they get this template?" with the decisions behind it', async () => {
    const got = await get('/api/v1/profiles/ann/journeys?template=newcomer-1-find-your-way')
    expect(got.body.journeys.map((j) => j.journeyId)).toEqual(['welcome-series'])
    expect(got.body.journeys[0]?.why).toEqual([
      'In the run that entered because Signed Up happened (key once), Ann got newcomer-1-find-your-way on 2026-03-04 10:00 after: waiting until 2026-03-04 10:00 UTC (delay 2d).',
    ])
    const notYet = await get(
      '/api/v1/profiles/bob/journeys?journey=welcome-series&template=newcomer-2-first-post',
    )
    expect(notYet.body.journeys[0]?.why).toEqual([
      'In the run that entered because Signed Up happened (key once), newcomer-2-first-post was not sent: the run ended on 2026-03-05 08:00 before reaching it (exited: Unsubscribed).',
    ])
  })

  it('says when a guard or the channel held a message back', async () => {
    const held = await get('/api/v1/profiles/bob/journeys?template=finish-your-booking-push')
    expect(held.body.journeys.map((j) => j.journeyId)).toEqual(['abandoned-booking'])
    expect(held.body.journeys[0]?.why).toEqual([
      'In the run that entered because Trip Searched (properties.trip_id is set) happened (key T1), ' +
        'finish-your-booking-push was queued on 2026-03-02 10:30 after: waiting for Booking Completed (same properties.trip_id) ' +
        'with "T1" until 2026-03-02 10:30 UTC (timeout 30m); no Booking Completed within 30m: taking the on_timeout path, ' +
        'but held back: failed (the push channel is not configured for this workspace (PUT /api/v1/channels/push)).',
    ])
    const messages = [...(held.body.journeys[0]?.runs[0]?.messages ?? [])]
    expect(messages.sort((a, b) => a.stepId.localeCompare(b.stepId))).toEqual([
      { stepId: 'mail', status: 'sent', error: null, waiting: null },
      {
        stepId: 'push',
        status: 'failed',
        error: 'the push channel is not configured for this workspace (PUT /api/v1/channels/push)',
        waiting: null,
      },
    ])
  })

  it('shows each workspace only its own people', async () => {
    const other = await otherWorkspace(world.db)
    const res = await app.inject({
      method: 'GET',
      url: '/api/v1/profiles/bob/journeys',
      headers: { authorization: `Bearer ${other}` },
    })
    expect(res.statusCode).toBe(404)
  })

  it('answers 404 with what to do for an unknown person or journey', async () => {
    const person = await get('/api/v1/profiles/nobody/journeys')
    expect(person.status).toBe(404)
    expect(person.body.error?.message).toBe('No profile has the userId, anonymousId or id "nobody"')
    const journey = await get('/api/v1/profiles/ann/journeys?journey=nope')
    expect(journey.status).toBe(404)
    expect(journey.body.error?.code).toBe('NUDGE_ERR_NOT_FOUND')
  })

  it('is in the OpenAPI document with its two filters', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/openapi.json' })
    const doc = res.json() as {
      paths: Record<string, { get?: { operationId: string; parameters: { name: string }[] } }>
    }
    const op = doc.paths['/api/v1/profiles/{id}/journeys']?.get
    expect(op?.operationId).toBe('listProfileJourneys')
    expect(op?.parameters.map((p) => p.name).sort()).toEqual(['id', 'journey', 'template'])
  })

  it('nudge why prints the sentences a community manager reads; an unknown person is a clear error', async () => {
    const res = await cli('why', 'bob', '--journey', 'welcome-series')
    expect(res.code).toBe(0)
    expect(res.stdout).toBe(
      'Welcome series (welcome-series)\n' +
        '  bob entered Welcome series on 2 March 2026 at 10:00 because of Signed Up; got welcome by email at 10:00; ' +
        'waited 2 days; got newcomer-1-find-your-way by email on 4 March at 10:00 (delivered); was to wait 3 days until 7 March at 10:00; ' +
        'exited on 5 March at 08:00: Unsubscribed.\n',
    )
    const never = await cli(
      'why',
      'ann',
      '--journey',
      'abandoned-booking',
      '--template',
      'finish-your-booking',
    )
    expect(never.stdout.split('\n')).toEqual([
      'Abandoned booking (abandoned-booking)',
      '  Ann never entered Abandoned booking.',
      '  Ann never did Trip Searched, the event that starts it.',
      '  Ann never entered journey abandoned-booking, so never got finish-your-booking.',
      '',
    ])
    const nobody = await cli('why', 'nobody')
    expect(nobody.code).toBe(1)
    expect(nobody.stderr).toBe(
      'No profile has the userId, anonymousId or id "nobody" in this workspace. Check the spelling; "nudge export profiles" lists them.\n',
    )
    const usage = await cli('why')
    expect(usage.code).toBe(2)
  })

  it('nudge simulate --since replays the stored history and finds the sends the runtime made', async () => {
    const res = await cli(
      'simulate',
      `${import.meta.dirname}/../../examples/journeys/welcome-series.yaml`,
      '--since',
      '2026-03-01T00:00:00Z',
      '--until',
      '2026-03-06T12:00:00Z',
    )
    expect(res.code).toBe(0)
    const simulated = res.stdout.split('\n\n')[0]!.split('\n')
    const real = (await world.sends()).filter((l) => !/finish-your-booking|charter/.test(l))
    expect(simulated.map((l) => l.replace(/\s+/g, ' '))).toEqual(
      real.map((l) => {
        const [user, what, at] = l.split(' ') as [string, string, string]
        return `${at.slice(0, 16).replace('T', ' ')} UTC ${user} ${what} welcome-series`
      }),
    )
    // The Journey Entered/Exited events the runtime logged are not fed back in.
    expect(res.stdout).toMatch(/\(\d+ events Nudge emitted for its own journeys were left out\)/)
    // Nothing was written: the runs are the runtime's alone.
    const [runs] = await world.db.query<{ n: number }>('SELECT count(*)::int AS n FROM journey_runs')
    expect(runs?.n).toBe(4)
  })
})

describeEachDriver('why a queued message has not gone out yet', (driver) => {
  it('tells a mail waiting its turn under the email rate limit, with the messages before it', async () => {
    const world = await makeWorld(driver, '2026-03-02T10:00:00Z')
    const app = await buildApp({ db: world.db, log: silentLogger, clock: world.clock })
    try {
      await world.db.query(
        `UPDATE workspaces SET settings = jsonb_set(coalesce(settings, '{}'::jsonb), '{guards}', $1::jsonb)
         WHERE id = 'default'`,
        [JSON.stringify({ rateLimits: { email: { perSecond: 1, burst: 1 } } })],
      )
      await world.publish('welcome-series')
      // Six sign-ups at one instant: their mails are due at the same time.
      for (let i = 1; i <= 6; i++) {
        await world.identify(`m${i}`, { email: `m${i}@example.org` })
        await world.track(`m${i}`, 'Signed Up')
      }
      const auth = { authorization: `Bearer ${(await createKey(world.db, 'default', 'admin')).secret}` }
      const ask = async (who: string) =>
        (
          await app.inject({
            method: 'GET',
            url: `/api/v1/profiles/${who}/journeys?template=welcome`,
            headers: auth,
          })
        ).json() as Answer
      // One a second: the first went out, the others wait untouched for their slots.
      const states = await world.db.query<{ user_id: string; status: string }>(
        `SELECT p.user_id, m.status FROM messages m
         JOIN profiles p ON p.workspace_id = m.workspace_id AND p.profile_id = m.profile_id ORDER BY p.user_id`,
      )
      expect(states.map((s) => `${s.user_id} ${s.status}`)).toEqual([
        'm1 sent',
        'm2 queued',
        'm3 queued',
        'm4 queued',
        'm5 queued',
        'm6 queued',
      ])
      const last = await ask('m6')
      expect(last.journeys[0]?.why).toEqual([
        'In the run that entered because Signed Up happened (key once), welcome was queued on 2026-03-02 10:00, ' +
          'and is not sent yet: waiting its turn under the email rate limit (at most 1 a second): ' +
          '4 other messages of the channel are due at or before it, about 4 seconds of sending.',
      ])
      expect(last.journeys[0]?.story[0]).toMatch(
        /; has welcome by email at 10:00 in the queue, waiting its turn under the email rate limit \(at most 1 a second\): 4 other messages/,
      )
      expect(last.journeys[0]?.runs[0]?.messages).toEqual([
        {
          stepId: 'welcome',
          status: 'queued',
          error: null,
          waiting: expect.stringMatching(/^waiting its turn under the email rate limit/),
        },
      ])
      // Due at the same instant, any of the others may go first: each counts the four others.
      expect((await ask('m2')).journeys[0]?.why?.[0]).toMatch(
        /and is not sent yet: waiting its turn under the email rate limit \(at most 1 a second\): 4 other messages of the channel are due at or before it, about 4 seconds of sending\.$/,
      )
      // Once the slots have come, the backlog is gone and the answer says it was got.
      await world.runUntil('2026-03-02T10:00:10Z')
      expect((await ask('m6')).journeys[0]?.why?.[0]).toMatch(/, m6 got welcome on 2026-03-02 10:00\.$/)
    } finally {
      await app.close()
      await world.close()
    }
  })
})
