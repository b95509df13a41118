// Two partitions racing on one person: an identify (userId partition) and an anonymous
// track (anonymousId partition) processed at the same moment by two transactions.
// Only a server has concurrent transactions, so this runs on PostgreSQL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { IdentityInput } from '../../src/domain/profiles/identity.ts'
import type { Tx } from '../../src/store/db.ts'
import { ProfileCache, resolveProfile } from '../../src/store/profiles/resolve.ts'
import { openTestDb, serverUrl, type TestDb } from '../helpers/db.ts'
import { liveProfileCount, profileOf } from './helpers.ts'

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
    let opened: () => void = () => {}
    const firstResolved = new Promise<void>((r) => {
      opened = r
    })
    let commit: () => void = () => {}
    const gate = new Promise<void>((r) => {
      commit = r
    })
    const t1 = db.transaction(async (tx: Tx) => {
      const p = await resolveProfile(tx, 'default', first, at, at, new ProfileCache())
      opened()
      await gate
      return p
    })
    await firstResolved
    const t2 = db.transaction((tx) => resolveProfile(tx, 'default', second, at, at, new ProfileCache()))
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
})
