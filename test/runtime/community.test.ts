// The community model at run time: the real processor, scheduler and journeys on a fake
// clock, on both drivers. Stages move one at a time, stuck fires once, scores decay as
// computed by hand, badges are backfilled, demotion waits for its grace, and journeys
// triggered by community events queue their messages.
import { afterEach, expect, it } from 'vitest'
import { scoreAt } from '../../src/domain/community/score.ts'
import { compileStages } from '../../src/domain/community/stage-config.ts'
import { DEFAULT_STAGE_CONFIG } from '../../src/domain/community/stage-defaults.ts'
import { partitionOf } from '../../src/domain/events/partition.ts'
import { parseJourneyDocument } from '../../src/domain/journeys/parse.ts'
import { parseSegment } from '../../src/domain/segments/schema.ts'
import { setBadgeRules, setScoreConfig, setStageConfig } from '../../src/runtime/community/configure.ts'
import { MAX_CHAIN } from '../../src/runtime/community/hook.ts'
import { loadScore } from '../../src/store/community.ts'
import { getCommunityJob } from '../../src/store/community-jobs.ts'
import { stageDistribution, topByContent, weeklyCohorts } from '../../src/store/community-reports.ts'
import { insertEvents } from '../../src/store/events.ts'
import { applyJourney } from '../../src/store/journeys.ts'
import { saveSegment } from '../../src/store/segments.ts'
import { describeEachDriver } from '../helpers/db.ts'
import { makeWorld, type World } from '../helpers/world.ts'

const DAY = 86_400_000
const COMMUNITY = ['Stage Entered', 'Stage Stuck', 'Score Crossed', 'Badge Awarded']

async function communityEvents(world: World, userId: string, names = COMMUNITY) {
  const rows = await world.db.query<{
    name: string
    timestamp: Date
    payload: { properties: Record<string, unknown> }
  }>(
    `SELECT name, timestamp, payload FROM events WHERE user_id = $1 AND name = ANY($2::text[]) ORDER BY seq`,
    [userId, names],
  )
  return rows.map(
    (r): Record<string, unknown> => ({
      name: r.name,
      at: r.timestamp.toISOString(),
      ...r.payload.properties,
    }),
  )
}

async function stageMoves(world: World, userId: string) {
  const events = await communityEvents(world, userId, ['Stage Entered'])
  return events.map(
    (e) =>
      `${e.at} ${e['previous_stage'] ?? '-'}→${e['stage']} ${e['direction']} ${e['time_in_previous_stage_ms']}`,
  )
}

async function publishInline(world: World, yaml: string) {
  const parsed = parseJourneyDocument(yaml, 'inline.yaml')
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors))
  const definition = JSON.parse(JSON.stringify(parsed.journey))
  await world.db.transaction((tx) => applyJourney(tx, 'default', definition, { publish: true }))
  world.workers.catalog.invalidate()
}

async function profileIdOf(world: World, userId: string): Promise<string> {
  const [r] = await world.db.query<{ profile_id: string }>(
    'SELECT profile_id FROM profiles WHERE workspace_id = $1 AND user_id = $2',
    ['default', userId],
  )
  if (!r) throw new Error(`no profile for ${userId}`)
  return r.profile_id
}

describeEachDriver('community model at run time', (driver) => {
  let world: World
  afterEach(() => world.close())

  it('moves one stage at a time, every intermediate Stage Entered emitted in order, nobody skips', async () => {
    world = await makeWorld(driver, '2026-03-02T10:00:00Z')
    // An email makes a prospect: visitor and prospect are entered in one evaluation.
    await world.identify('eve', { email: 'eve@example.com' })
    await world.runUntil('2026-03-03T10:00:00Z')
    await world.track('eve', 'Signed Up')
    await world.runUntil('2026-03-05T10:00:00Z')
    await world.track('eve', 'Topic Created')
    // A community role is the evangelist criterion, but ambassador lies in between and
    // its criteria do not hold: eve stays an active member.
    await world.identify('eve', { community_role: 'moderator' })
    expect(await stageMoves(world, 'eve')).toEqual([
      '2026-03-02T10:00:00.000Z -→visitor up null',
      '2026-03-02T10:00:00.000Z visitor→prospect up 0',
      `2026-03-03T10:00:00.000Z prospect→member up ${DAY}`,
      `2026-03-05T10:00:00.000Z member→active_member up ${2 * DAY}`,
    ])
    const history = await world.db.query<{ stage: string; previous_stage: string | null }>(
      'SELECT stage, previous_stage FROM profile_stage_history ORDER BY seq',
    )
    expect(history.map((h) => `${h.previous_stage}→${h.stage}`)).toEqual([
      'null→visitor',
      'visitor→prospect',
      'prospect→member',
      'member→active_member',
    ])
  })

  it('fires Stage Stuck exactly once per entry, and a move cancels it', async () => {
    world = await makeWorld(driver, '2026-03-02T10:00:00Z')
    await world.identify('sam', { email: 'sam@example.com' })
    await world.track('sam', 'Signed Up')
    await world.identify('lou', { email: 'lou@example.com' })
    await world.track('lou', 'Signed Up')
    await world.runUntil('2026-03-10T10:00:00Z')
    await world.track('lou', 'Topic Created')
    // member is stuck after 14 days: sam on 03-16, lou moved on before.
    await world.runUntil('2026-03-20T10:00:00Z')
    // A timer delivered a second time (at-least-once scheduling) emits nothing more.
    const sam = await profileIdOf(world, 'sam')
    await world.db.query(
      `INSERT INTO timers (workspace_id, profile_id, timer_id, kind, fire_at, payload)
       VALUES ('default', $1, 'community:stuck:member', 'community.stuck', '2026-03-20T10:00:00Z', $2)`,
      [sam, JSON.stringify({ stage: 'member', enteredAt: '2026-03-02T10:00:00.000Z' })],
    )
    await world.runUntil('2026-03-25T10:00:00Z')
    expect(await communityEvents(world, 'sam', ['Stage Stuck'])).toEqual([
      {
        name: 'Stage Stuck',
        at: '2026-03-16T10:00:00.000Z',
        stage: 'member',
        stage_name: 'Member',
        entered_at: '2026-03-02T10:00:00.000Z',
        time_in_stage_ms: 14 * DAY,
        stuck_after_ms: 14 * DAY,
      },
    ])
    expect(await communityEvents(world, 'lou', ['Stage Stuck'])).toEqual([])
    const timers = await world.db.query<{ timer_id: string }>(
      `SELECT t.timer_id FROM timers t JOIN profiles p USING (workspace_id, profile_id)
       WHERE p.user_id = 'lou' AND t.timer_id LIKE 'community:stuck:%'`,
    )
    expect(timers.map((t) => t.timer_id)).toEqual(['community:stuck:active_member'])
  })

  it('decays the score by its half-life as computed by hand, and reports crossings both ways', async () => {
    world = await makeWorld(driver, '2026-03-01T00:00:00Z')
    await world.db.transaction((tx) =>
      setScoreConfig(
        tx,
        'default',
        { half_life: '10d', points: { 'Post Created': 10 }, thresholds: [5, 15] },
        world.clock.now(),
        'test',
      ),
    )
    await world.track('ann', 'Post Created')
    const id = await profileIdOf(world, 'ann')
    const at = async (iso: string) => {
      await world.runUntil(iso)
      const s = await loadScore(world.db, 'default', id)
      return Number(scoreAt(s!, new Date(iso), 10 * DAY).toFixed(4))
    }
    // 10 · 2^(-t/10d): 5 days → 7.0711, 10 days → 5; +10 → 15; 20 days → 7.5; 30 days → 3.75.
    const table: Array<[string, number]> = []
    table.push(['0d', await at('2026-03-01T00:00:00Z')])
    table.push(['5d', await at('2026-03-06T00:00:00Z')])
    table.push(['10d', await at('2026-03-11T00:00:00Z')])
    await world.track('ann', 'Post Created')
    table.push(['10d+post', await at('2026-03-11T00:00:00Z')])
    table.push(['20d', await at('2026-03-21T00:00:00Z')])
    table.push(['30d', await at('2026-03-31T00:00:00Z')])
    expect(table).toEqual([
      ['0d', 10],
      ['5d', 7.0711],
      ['10d', 5],
      ['10d+post', 15],
      ['20d', 7.5],
      ['30d', 3.75],
    ])
    const crossed = await communityEvents(world, 'ann', ['Score Crossed'])
    expect(crossed.map((c) => `${c.at} ${c['direction']} ${c['threshold']}`)).toEqual([
      '2026-03-01T00:00:00.000Z up 5',
      '2026-03-11T00:00:00.000Z up 15',
      // Decay takes 15 below 15 at once (the first millisecond after), and below 5 after
      // 10d · log2(15 / 5) = 15.8496250072 days = 15d 20h 23m 27.601s.
      '2026-03-11T00:00:00.001Z down 15',
      '2026-03-26T20:23:27.601Z down 5',
    ])
  })

  it('backfills a new badge rule over past events, at the time each was earned', async () => {
    world = await makeWorld(driver, '2026-03-01T00:00:00Z')
    for (let d = 0; d < 4; d++) {
      await world.runUntil(new Date(Date.parse('2026-03-01T00:00:00Z') + d * DAY))
      await world.track('ann', 'Event Attended')
      if (d < 1) await world.track('bob', 'Event Attended')
    }
    const result = await world.db.transaction((tx) =>
      setBadgeRules(
        tx,
        'default',
        [{ id: 'regular', name: 'Regular', when: { type: 'count', event: 'Event Attended', count: 3 } }],
        world.clock.now(),
        'test',
      ),
    )
    // The backfill is a background job over both members, done by the workers.
    const job = result.ok ? result.value.job : null
    expect([job?.kind, job?.status, job?.membersTotal, job?.awards]).toEqual(['badges', 'running', 2, 0])
    await world.workers.drain()
    const done = await getCommunityJob(world.db, 'default', job!.id)
    expect([done?.status, done?.membersDone, done?.awards]).toEqual(['done', 2, 1])
    expect(await communityEvents(world, 'ann', ['Badge Awarded'])).toEqual([
      {
        name: 'Badge Awarded',
        at: '2026-03-03T00:00:00.000Z',
        badge: 'regular',
        badge_name: 'Regular',
        occurrence: 1,
        rule: 'count',
        backfilled: true,
      },
    ])
    expect(await communityEvents(world, 'bob', ['Badge Awarded'])).toEqual([])
    // Bob's third attendance awards it live, once.
    await world.track('bob', 'Event Attended')
    await world.track('bob', 'Event Attended')
    await world.track('bob', 'Event Attended')
    const bob = await communityEvents(world, 'bob', ['Badge Awarded'])
    expect(bob.map((b) => [b['badge'], b['backfilled'], b['occurrence']])).toEqual([['regular', false, 1]])
  })

  it('demotes after the grace period, one stage down, by timer', async () => {
    world = await makeWorld(driver, '2026-01-01T00:00:00Z')
    await world.identify('dan', { email: 'dan@example.com' })
    await world.track('dan', 'Signed Up')
    await world.track('dan', 'Topic Created')
    // No topic and no post in 60 days holds from day 61 (checked daily); grace 14 days.
    await world.runUntil('2026-03-31T00:00:00Z')
    const moves = await stageMoves(world, 'dan')
    expect(moves.slice(4)).toEqual([`2026-03-17T00:00:00.000Z active_member→member down ${75 * DAY}`])
  })

  it('lets a community event award a badge without re-triggering itself, and bounds any chain', async () => {
    world = await makeWorld(driver, '2026-03-02T10:00:00Z')
    const rules = [
      { id: 'first_topic', name: 'First topic', when: { type: 'event', event: 'Topic Created' } },
      // Repeatable on any award: it must not count its own award.
      {
        id: 'collector',
        name: 'Collector',
        repeatable: true,
        when: { type: 'event', event: 'Badge Awarded' },
      },
    ]
    await world.db.transaction((tx) => setBadgeRules(tx, 'default', rules, world.clock.now(), 'test'))
    await world.track('ann', 'Topic Created')
    const awards = await communityEvents(world, 'ann', ['Badge Awarded'])
    expect(awards.map((a) => `${a['badge']} #${a['occurrence']}`)).toEqual(['first_topic #1', 'collector #1'])
    // Two rules feeding each other would loop; the chain stops after a bounded number of links.
    const pingPong = [
      ...rules,
      { id: 'echo', name: 'Echo', repeatable: true, when: { type: 'event', event: 'Badge Awarded' } },
    ]
    await world.db.transaction((tx) => setBadgeRules(tx, 'default', pingPong, world.clock.now(), 'test'))
    await world.track('bob', 'Topic Created')
    const bob = await communityEvents(world, 'bob', ['Badge Awarded'])
    expect(bob.length).toBeGreaterThan(2)
    expect(bob.length).toBeLessThanOrEqual(2 * MAX_CHAIN)
  })

  it('starts journeys on Stage Entered (to member) and on Badge Awarded, which queue their messages', async () => {
    world = await makeWorld(driver, '2026-03-02T10:00:00Z')
    await publishInline(
      world,
      `id: member-welcome-event
name: Invite new members to the welcome event
trigger:
  type: event
  event: Stage Entered
  where: [{ path: properties.stage, op: eq, value: member }]
entry: { type: once }
steps:
  - { id: invite, type: send, channel: email, template: welcome-event-invite }
`,
    )
    await publishInline(
      world,
      `id: badge-congrats
name: Congratulate on a badge
trigger: { type: event, event: Badge Awarded }
entry: { type: every_time }
steps:
  - { id: congrats, type: send, channel: in_app, template: badge-congrats }
`,
    )
    await world.db.transaction((tx) =>
      setBadgeRules(
        tx,
        'default',
        [{ id: 'first_topic', name: 'First topic', when: { type: 'event', event: 'Topic Created' } }],
        world.clock.now(),
        'test',
      ),
    )
    await world.identify('ann', { email: 'ann@example.com' })
    await world.runUntil('2026-03-02T11:00:00Z')
    await world.track('ann', 'Signed Up')
    await world.runUntil('2026-03-02T12:00:00Z')
    await world.track('ann', 'Topic Created')
    await world.track('ann', 'Topic Created')
    expect(await world.sends()).toEqual([
      'ann email:welcome-event-invite 2026-03-02T11:00:00.000Z',
      'ann in_app:badge-congrats 2026-03-02T12:00:00.000Z',
    ])
  })

  it('a member merged in the round of an earlier first entry keeps that entry, counted once in its cohort', async () => {
    const t0 = Date.parse('2026-03-02T10:00:00Z')
    const at = (d: number) => new Date(t0 + d * DAY)
    world = await makeWorld(driver, at(0).toISOString())
    // uma becomes a prospect on day 8, on the clock of one worker.
    await world.identify('uma', {})
    await world.runUntil(at(8))
    await world.track('uma', 'Newsletter Subscribed')
    // Another worker's clock is an hour behind. In one of its rounds, an anonymous session
    // subscribes (its first prospect entry, an hour before uma's stored one), then the
    // identify that makes it uma's.
    world.clock.set(new Date(at(8).getTime() - 3_600_000))
    const partition = partitionOf('default', 'uma', null)
    const event = (messageId: string, type: 'track' | 'identify', body: Record<string, unknown>) => ({
      workspaceId: 'default',
      messageId,
      type,
      name: type === 'track' ? (body['event'] as string) : null,
      userId: (body['userId'] as string | undefined) ?? null,
      anonymousId: 'a-9',
      timestamp: world.clock.now(),
      receivedAt: world.clock.now(),
      // One partition: the subscription is processed before the identify, in the same round.
      partition,
      payload: { type, anonymousId: 'a-9', ...body },
    })
    await insertEvents(world.db, [
      event('late-1', 'track', { event: 'Newsletter Subscribed', properties: {} }),
      event('late-2', 'identify', { userId: 'uma', traits: {} }),
    ])
    await world.workers.drain()
    const uma = await profileIdOf(world, 'uma')
    const first = await world.db.query(
      'SELECT profile_id, entered_at FROM profile_stage_firsts WHERE stage = $1',
      ['prospect'],
    )
    expect(first).toEqual([{ profile_id: uma, entered_at: new Date(at(8).getTime() - 3_600_000) }])
    // The person is counted once, in the cohort of that entry.
    const cohorts = await weeklyCohorts(
      world.db,
      'default',
      'prospect',
      new Date('2026-03-09T00:00:00Z'),
      at(14),
      1,
    )
    expect(cohorts.map((c) => [c.cohort.toISOString().slice(0, 10), c.members])).toEqual([['2026-03-09', 1]])
  })

  it('merges an anonymous member into the identified one: furthest stage, summed score, both badges, counted once', async () => {
    const t0 = Date.parse('2026-03-02T10:00:00Z')
    const at = (d: number) => new Date(t0 + d * DAY)
    world = await makeWorld(driver, at(0).toISOString())
    await world.db.transaction((tx) =>
      setBadgeRules(
        tx,
        'default',
        [
          { id: 'first_post', name: 'First post', when: { type: 'event', event: 'Post Created' } },
          { id: 'first_topic', name: 'First topic', when: { type: 'event', event: 'Topic Created' } },
        ],
        world.clock.now(),
        'test',
      ),
    )
    // An anonymous visitor subscribes to the newsletter (a prospect) and posts a reply.
    const anon = { anonymousId: 'a-1' }
    await world.send('track', anon, { event: 'Newsletter Subscribed', properties: {} })
    await world.send('track', anon, { event: 'Post Created', properties: {} })
    // The next day uma signs in elsewhere (a visitor) and opens a topic.
    await world.runUntil(at(1))
    await world.identify('uma', {})
    await world.track('uma', 'Topic Created')
    await world.runUntil(at(3))
    await world.send('identify', { userId: 'uma', anonymousId: 'a-1' }, { traits: {} })

    const uma = await profileIdOf(world, 'uma')
    const [gone] = await world.db.query<{ profile_id: string }>(
      'SELECT profile_id FROM profiles WHERE merged_into = $1',
      [uma],
    )
    expect(gone).toBeDefined()
    const absorbed = gone!.profile_id
    const view = await world.db.query<{ stage: string; entered_at: Date }>(
      'SELECT stage, entered_at FROM profile_stages WHERE profile_id = ANY($1::uuid[])',
      [[uma, absorbed]],
    )
    // The prospect entry of the anonymous profile is further than uma's visitor entry.
    expect(view).toEqual([{ stage: 'prospect', entered_at: at(0) }])
    // 1 + 6 points on day 0 and 8 on day 1, decayed to day 3 with the 30-day half-life.
    const score = await loadScore(world.db, 'default', uma)
    expect(scoreAt(score!, at(3), 30 * DAY)).toBeCloseTo(7 * 2 ** (-3 / 30) + 8 * 2 ** (-2 / 30), 9)
    const badges = await world.db.query<{ profile_id: string; badge: string }>(
      'SELECT profile_id, badge FROM profile_badges WHERE profile_id = ANY($1::uuid[]) ORDER BY badge',
      [[uma, absorbed]],
    )
    expect(badges).toEqual([
      { profile_id: uma, badge: 'first_post' },
      { profile_id: uma, badge: 'first_topic' },
    ])
    const history = await world.db.query<{ p: string; at: Date }>(
      `SELECT coalesce(previous_stage, '-') || '→' || stage AS p, entered_at AS at FROM profile_stage_history
       WHERE profile_id = ANY($1::uuid[]) AND profile_id = $2 ORDER BY seq`,
      [[uma, absorbed], uma],
    )
    expect(history).toEqual([
      { p: '-→visitor', at: at(0) },
      { p: 'visitor→prospect', at: at(0) },
      { p: '-→visitor', at: at(1) },
    ])

    // Reports count one person now, and still two before the merge.
    const stages = compileStages(DEFAULT_STAGE_CONFIG)
    const members = (rows: { stage: string; members: number }[]) => rows.slice(0, 3).map((r) => r.members)
    expect(members(await stageDistribution(world.db, 'default', stages))).toEqual([0, 1, 0])
    expect(members(await stageDistribution(world.db, 'default', stages, at(2)))).toEqual([1, 1, 0])
    expect(await topByContent(world.db, 'default')).toEqual([{ profileId: uma, created: 2 }])
    const week = new Date('2026-03-02T00:00:00Z')
    for (const join of ['visitor', 'prospect'])
      expect(await weeklyCohorts(world.db, 'default', join, week, at(7), 2)).toEqual([
        { cohort: week, members: 1, retained: [1, 0] },
      ])

    // Timers follow the kept entry: prospect is stuck after 30 days, once; nothing is left
    // for the absorbed profile.
    const timers = await world.db.query<{ profile_id: string; timer_id: string; fire_at: Date }>(
      `SELECT profile_id, timer_id, fire_at FROM timers WHERE profile_id = ANY($1::uuid[]) AND timer_id LIKE 'community:stuck:%'`,
      [[uma, absorbed]],
    )
    expect(timers).toEqual([{ profile_id: uma, timer_id: 'community:stuck:prospect', fire_at: at(30) }])
    await world.runUntil(at(31))
    const stuck = await communityEvents(world, 'uma', ['Stage Stuck'])
    expect(stuck.map((e) => `${e.at} ${e['stage']} ${e['entered_at']}`)).toEqual([
      `${at(30).toISOString()} prospect ${at(0).toISOString()}`,
    ])
  })

  it("judges journeys' and segments' stage and score conditions by the workspace's funnel and half-life", async () => {
    world = await makeWorld(driver, '2026-03-02T10:00:00Z')
    const now = world.clock.now()
    await world.db.transaction(async (tx) => {
      const stages = await setStageConfig(
        tx,
        'default',
        {
          stages: [
            { id: 'newcomer', name: 'Newcomer', criteria: { type: 'all', conditions: [] } },
            {
              id: 'regular',
              name: 'Regular',
              criteria: { type: 'performed', event: 'Post Created', min: 1 },
            },
          ],
        },
        now,
        'test',
      )
      const score = await setScoreConfig(
        tx,
        'default',
        { half_life: '1d', points: { 'Post Created': 10 }, thresholds: [50] },
        now,
        'test',
      )
      if (!stages.ok || !score.ok) throw new Error('refused')
    })
    // A regular whose score has decayed below 5: true with this funnel and a 1-day
    // half-life; false with the default ones (no stage "regular", 30-day half-life).
    const gate = {
      type: 'all',
      conditions: [
        { type: 'stage', op: 'gte', stage: 'regular' },
        { type: 'score', op: 'lt', value: 5 },
      ],
    }
    await publishInline(
      world,
      `id: fading-regulars
name: Fading regulars
trigger: { type: event, event: Ping }
entry: { type: every_time }
steps:
  - id: gate
    type: branch
    paths:
      - name: fading
        when: ${JSON.stringify(gate)}
        steps: [{ type: send, channel: email, template: we-miss-you }]
    else: [{ type: send, channel: email, template: keep-going }]
`,
    )
    const segment = parseSegment({ id: 'fading', name: 'Fading regulars', condition: gate })
    if (!segment.ok) throw new Error(JSON.stringify(segment.issues))
    await world.db.transaction((tx) => saveSegment(tx, 'default', segment.value, world.clock.now()))
    await world.track('ann', 'Post Created')
    await world.track('ann', 'Ping')
    // 10 points: 10 · 2^(-2d / 1d) = 2.5 two days later.
    await world.runUntil('2026-03-04T10:00:00Z')
    await world.track('ann', 'Ping')
    expect(await world.sends()).toEqual([
      'ann email:keep-going 2026-03-02T10:00:00.000Z',
      'ann email:we-miss-you 2026-03-04T10:00:00.000Z',
    ])
    const members = await world.db.query<{ segment_id: string }>('SELECT segment_id FROM segment_members')
    expect(members).toEqual([{ segment_id: 'fading' }])
  })
})
