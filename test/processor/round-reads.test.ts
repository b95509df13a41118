// Several events of one member processed in one round: each event's hooks must see what
// the events before it changed (stage, history, runs), although the round reads the
// members' state once for all of them.
import { afterEach, beforeEach, expect, it } from 'vitest'
import { partitionOf } from '../../src/domain/events/partition.ts'
import { JourneySchema } from '../../src/domain/journeys/schema.ts'
import { insertEvents } from '../../src/store/events.ts'
import { applyJourney } from '../../src/store/journeys.ts'
import { describeEachDriver } from '../helpers/db.ts'
import { makeWorld, type World } from '../helpers/world.ts'

const journeys = [
  {
    // The third post of the series is told apart from the first two by the history.
    id: 'third-post',
    name: 'Third post',
    trigger: { type: 'event', event: 'Post Created' },
    entry: { type: 'every_time' },
    steps: [
      {
        id: 'which',
        type: 'branch',
        paths: [
          {
            name: 'third',
            when: { type: 'performed', event: 'Post Created', min: 3 },
            steps: [
              { id: 'third', type: 'send', channel: 'email', template: 'newcomer-3-meet-the-regulars' },
            ],
          },
        ],
        else: [{ id: 'early', type: 'send', channel: 'email', template: 'newcomer-2-first-post' }],
      },
    ],
  },
  {
    // Reads the stage the community model set for an earlier event of the same round.
    id: 'photo-by-stage',
    name: 'Photo by stage',
    trigger: { type: 'event', event: 'Photo Shared' },
    entry: { type: 'every_time' },
    steps: [
      {
        id: 'stage',
        type: 'branch',
        paths: [
          {
            name: 'member',
            when: { type: 'stage', op: 'gte', stage: 'member' },
            steps: [{ id: 'member', type: 'send', channel: 'email', template: 'photo-tip-beginners-guide' }],
          },
        ],
        else: [{ id: 'visitor', type: 'send', channel: 'email', template: 'welcome' }],
      },
    ],
  },
  {
    // Once per member: the second trigger of the round finds the run the first one started.
    id: 'once',
    name: 'Once',
    trigger: { type: 'event', event: 'Photo Shared' },
    entry: { type: 'once' },
    steps: [{ id: 'hello', type: 'send', channel: 'email', template: 'feedback-ask' }],
  },
]

describeEachDriver('processor: a round reads once and sees its own changes', (driver) => {
  let world: World
  beforeEach(async () => {
    world = await makeWorld(driver, '2026-03-02T10:00:00Z')
    await world.publish()
    for (const j of journeys) {
      const definition = JSON.parse(JSON.stringify(JourneySchema.parse(j)))
      await world.db.transaction((tx) => applyJourney(tx, 'default', definition, { publish: true }))
    }
    world.workers.catalog.invalidate()
  })
  afterEach(() => world.close())

  /** Writes the events in one insert, so that one processing round takes them all. */
  async function together(userId: string, names: string[]): Promise<void> {
    const now = world.clock.now()
    await insertEvents(
      world.db,
      names.map((name, i) => ({
        workspaceId: 'default',
        messageId: `${userId}-${i}`,
        type: 'track' as const,
        name,
        userId,
        anonymousId: null,
        timestamp: new Date(now.getTime() - (names.length - i)),
        receivedAt: now,
        partition: partitionOf('default', userId, null),
        payload: { type: 'track', userId, event: name, properties: {} },
      })),
    )
    await world.workers.drain()
  }

  const templates = async (userId: string) =>
    (await world.sends()).filter((s) => s.startsWith(`${userId} `)).map((s) => s.split(' ')[1])

  it('counts the posts of the same round in the history of the next one', async () => {
    await together('ann', [
      'Newsletter Subscribed',
      'Signed Up',
      'Post Created',
      'Post Created',
      'Post Created',
      'Post Created',
    ])
    // The messages share their creation time: compare them as a set with counts.
    expect((await templates('ann')).sort()).toEqual([
      'email:newcomer-2-first-post',
      'email:newcomer-2-first-post',
      'email:newcomer-3-meet-the-regulars',
      'email:newcomer-3-meet-the-regulars',
    ])
    // A member with three posts within 30 days is active, counted within the round as well.
    const [stage] = await world.db.query<{ stage: string }>(
      `SELECT s.stage FROM profile_stages s JOIN profiles p USING (workspace_id, profile_id) WHERE p.user_id = 'ann'`,
    )
    expect(stage?.stage).toBe('active_member')
  })

  it('sees the stage an earlier event of the round moved to, and the run it started', async () => {
    // Subscribing makes a prospect, signing up a member (one stage at a time).
    await together('bob', ['Photo Shared', 'Newsletter Subscribed', 'Signed Up', 'Photo Shared'])
    expect((await templates('bob')).sort()).toEqual(
      ['email:feedback-ask', 'email:photo-tip-beginners-guide', 'email:welcome'].sort(),
    )
    const runs = await world.db.query<{ journey_id: string; n: number }>(
      `SELECT r.journey_id, count(*)::int AS n FROM journey_runs r JOIN profiles p USING (workspace_id, profile_id)
       WHERE p.user_id = 'bob' GROUP BY r.journey_id ORDER BY r.journey_id`,
    )
    expect(runs).toEqual([
      { journey_id: 'once', n: 1 },
      { journey_id: 'photo-by-stage', n: 2 },
    ])
  })
})
