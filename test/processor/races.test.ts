// Two partitions racing on one person: an identify (userId partition) and an anonymous
// track (anonymousId partition) processed at the same moment by two transactions.
// Only a server has concurrent transactions, so this runs on PostgreSQL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FakeClock } from '../../src/domain/clock.ts'
import { partitionOf } from '../../src/domain/events/partition.ts'
import type { IdentityInput } from '../../src/domain/profiles/identity.ts'
import { silentLogger } from '../../src/log.ts'
import { applyEvents } from '../../src/runtime/apply-events.ts'
import { makeCommunityHook } from '../../src/runtime/community/hook.ts'
import { makeProcessor } from '../../src/runtime/processor.ts'
import type { Tx } from '../../src/store/db.ts'
import { finishRound, type PendingEvent } from '../../src/store/processing.ts'
import { ProfileCache, resolveProfile } from '../../src/store/profiles/resolve.ts'
import { openTestDb, serverUrl, type TestDb } from '../helpers/db.ts'
import { liveProfileCount, profileOf, send } from './helpers.ts'

const at = new Date('2026-01-05T09:00:00Z')
const track = (anonymousId: string): IdentityInput => ({
  type: 'track',
  userId: null,
  anonymousId,
  previousId: null,
})
const identify = (userId: string, anonymousId: string): IdentityInput => ({
  type: 'identify',
  userId,
  anonymousId,
  previousId: null,
})

describe.skipIf(!serverUrl)('processor: identity races [pg]', () => {
  let db: TestDb
  beforeAll(async () => {
    db = await openTestDb('pg')
  })
  afterAll(() => db.close())

  /** Runs `first` and holds its transaction open until `second` is blocked on it. */
  async function race(first: IdentityInput, second: IdentityInput) {
    return raceTx(
      (tx) => resolveProfile(tx, 'default', first, at, at, new ProfileCache()),
      (tx) => resolveProfile(tx, 'default', second, at, at, new ProfileCache()),
    )
  }

  /** Runs `first`, then `second` in another transaction, and commits the first once the second waits for it. */
  async function raceTx<T>(first: (tx: Tx) => Promise<T>, second: (tx: Tx) => Promise<T>): Promise<[T, T]> {
    let opened: () => void = () => {}
    const firstResolved = new Promise<void>((r) => {
      opened = r
    })
    let commit: () => void = () => {}
    const gate = new Promise<void>((r) => {
      commit = r
    })
    const t1 = db.transaction(async (tx: Tx) => {
      const p = await first(tx)
      opened()
      await gate
      return p
    })
    await firstResolved
    const t2 = db.transaction(second)
    // Wait until the second transaction is really waiting on the first one's rows.
    for (let i = 0; i < 400; i++) {
      const waiting = await db.query(
        "SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%profile_identities%' AND datname = current_database()",
      )
      if (waiting.length) break
      await new Promise((r) => setTimeout(r, 5))
    }
    commit()
    return Promise.all([t1, t2])
  }

  it('an anonymous track creating the profile first, then the identify: one profile', async () => {
    const before = await liveProfileCount(db)
    const [a, b] = await race(track('anon-r1'), identify('racer-1', 'anon-r1'))
    expect(await liveProfileCount(db)).toBe(before + 1)
    // The identify lost the race for the anonymousId, so it absorbs the anonymous profile.
    expect(b.merged).toEqual([a.profileId])
    const p = await profileOf(db, 'user_id', 'racer-1')
    expect(p?.profileId).toBe(b.profileId)
    expect(p?.identities).toEqual(['anonymous_id:anon-r1', 'user_id:racer-1'])
  })

  it('the identify creating the profile first, then the anonymous track: one profile', async () => {
    const before = await liveProfileCount(db)
    const [a, b] = await race(identify('racer-2', 'anon-r2'), track('anon-r2'))
    expect(await liveProfileCount(db)).toBe(before + 1)
    expect(b.profileId).toBe(a.profileId)
  })

  it('two identifies of the same new user: one profile', async () => {
    const before = await liveProfileCount(db)
    const [a, b] = await race(identify('racer-3', 'anon-r3a'), identify('racer-3', 'anon-r3b'))
    expect(await liveProfileCount(db)).toBe(before + 1)
    expect(b.profileId).toBe(a.profileId)
    expect((await profileOf(db, 'user_id', 'racer-3'))?.identities).toEqual([
      'anonymous_id:anon-r3a',
      'anonymous_id:anon-r3b',
      'user_id:racer-3',
    ])
  })

  it("two rounds scoring one member from two partitions: the second reads the first's score once it holds the member", async () => {
    // One member known by a userId and an anonymousId, which land in different partitions.
    const clock = new FakeClock(at)
    const community = makeCommunityHook(silentLogger)
    await send(db, { type: 'identify', userId: 'scorer', anonymousId: 'anon-scorer' })
    await makeProcessor({ db, clock, log: silentLogger, hooks: [community] }).drain()
    const liked = (seq: number, userId: string | null, anonymousId: string | null): PendingEvent => ({
      workspaceId: 'default',
      seq,
      messageId: `liked-${seq}`,
      type: 'track',
      name: 'Post Liked',
      userId,
      anonymousId,
      partition: partitionOf('default', userId, anonymousId),
      timestamp: at,
      receivedAt: at,
      payload: { type: 'track', event: 'Post Liked', properties: {}, userId, anonymousId },
      profileId: null,
      processedAt: null,
      attempts: 0,
      retryAt: null,
    })
    const round = (e: PendingEvent) => async (tx: Tx) => {
      const { done, tail } = await applyEvents(tx, [e], at, { hooks: [community], clock, log: silentLogger })
      await finishRound(tx, done, [], 'race', at, tail)
      return done[0]?.profileId
    }
    const [a, b] = await raceTx(
      round(liked(9_000_001, 'scorer', null)),
      round(liked(9_000_002, null, 'anon-scorer')),
    )
    expect(b).toBe(a)
    // 'Post Liked' is worth one point: both rounds count, none overwrites the other's.
    const [score] = await db.query<{ value: number }>(
      'SELECT value FROM profile_scores WHERE workspace_id = $1 AND profile_id = $2',
      ['default', a],
    )
    expect(Number(score?.value)).toBeCloseTo(2, 6)
  })
})
