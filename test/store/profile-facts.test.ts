// A member's history of some event names, as `performed` conditions and the funnel's
// criteria read it: newest first, the `limit` newest of all the names asked for, and
// nothing of other names or other members.
import { afterEach, expect, it } from 'vitest'
import { partitionOf } from '../../src/domain/events/partition.ts'
import { insertEvents } from '../../src/store/events.ts'
import { loadEventFactsOfProfiles } from '../../src/store/profile-facts.ts'
import { describeEachDriver } from '../helpers/db.ts'
import { makeWorld, type World } from '../helpers/world.ts'

describeEachDriver('profile facts: event history', (driver) => {
  let world: World
  afterEach(async () => {
    await world.close()
  })

  it('reads the newest events of the names asked, per member, at most `limit` of them', async () => {
    world = await makeWorld(driver, '2026-03-02T10:00:00Z')
    // ann: Post Created, Liked, Post Created, Shared, Liked, one minute apart; bob: one Liked.
    for (const name of ['Post Created', 'Liked', 'Post Created', 'Shared', 'Liked']) {
      await world.track('ann', name)
      world.clock.advance(60_000)
    }
    await world.track('bob', 'Liked')
    await world.workers.drain()
    const ids = await world.db.query<{ user_id: string; profile_id: string }>(
      'SELECT user_id, profile_id FROM profiles ORDER BY user_id',
    )
    const [ann, bob] = ids.map((r) => r.profile_id) as [string, string]
    const read = async (names: string[], limit?: number) => {
      const got = await loadEventFactsOfProfiles(world.db, 'default', [ann, bob, ann], names, limit)
      return [ann, bob].map((p) =>
        (got.get(p) ?? []).map((e) => `${e.name} ${e.timestamp.toISOString().slice(11, 16)}`),
      )
    }
    expect(await read(['Post Created', 'Liked'])).toEqual([
      ['Liked 10:04', 'Post Created 10:02', 'Liked 10:01', 'Post Created 10:00'],
      ['Liked 10:05'],
    ])
    // The limit counts across the names; a name asked twice is read once.
    expect(await read(['Liked', 'Post Created', 'Liked'], 3)).toEqual([
      ['Liked 10:04', 'Post Created 10:02', 'Liked 10:01'],
      ['Liked 10:05'],
    ])
    expect(await read(['Shared', 'Never Done'])).toEqual([['Shared 10:03'], []])
    expect(await read([])).toEqual([[], []])
  })

  it('finds a page view by its page name, and a member only the names it did', async () => {
    world = await makeWorld(driver, '2026-03-02T10:00:00Z')
    // A page view counts under one counter for all pages, not under its name.
    const now = world.clock.now()
    const page = (id: string, userId: string, name: string) => ({
      workspaceId: 'default',
      messageId: id,
      type: 'page' as const,
      name,
      userId,
      anonymousId: null,
      timestamp: now,
      receivedAt: now,
      partition: partitionOf('default', userId, null),
      payload: { type: 'page', userId, name },
    })
    await insertEvents(world.db, [page('p1', 'cat', 'Pricing')])
    await world.track('dan', 'Liked')
    await world.workers.drain()
    const ids = new Map(
      (
        await world.db.query<{ user_id: string; profile_id: string }>(
          'SELECT user_id, profile_id FROM profiles',
        )
      ).map((r) => [r.user_id, r.profile_id]),
    )
    const cat = ids.get('cat') as string
    const dan = ids.get('dan') as string
    const names = async (profile: string, asked: string[]) =>
      ((await loadEventFactsOfProfiles(world.db, 'default', [profile], asked)).get(profile) ?? []).map(
        (e) => e.name,
      )
    expect(await names(cat, ['Pricing', 'Liked'])).toEqual(['Pricing'])
    expect(await names(dan, ['Pricing', 'Liked'])).toEqual(['Liked'])
  })
})
