// The earlier entries of members into a journey, as the entry rules read them: only as
// many as entryHistory says (the first, a window, all, or none), only the journey's own,
// one read for all the members asked.
import { afterAll, beforeAll, expect, it } from 'vitest'
import { pastEntries } from '../../src/store/runs.ts'
import { describeEachDriver, openTestDb, type TestDb } from '../helpers/db.ts'

const ann = '00000000-0000-4000-8000-00000000000a'
const bob = '00000000-0000-4000-8000-00000000000b'
const now = new Date('2026-03-10T12:00:00Z')
const daysAgo = (d: number) => new Date(now.getTime() - d * 86_400_000)

describeEachDriver('past entries', (driver) => {
  let db: TestDb
  beforeAll(async () => {
    db = await openTestDb(driver)
    const runs: Array<[string, string, string, Date]> = [
      [ann, 'tips', 'k1', daysAgo(9)],
      [ann, 'tips', 'k2', daysAgo(3)],
      [ann, 'tips', 'k3', daysAgo(1)],
      [ann, 'other', 'k9', daysAgo(20)],
      [bob, 'tips', 'k4', daysAgo(5)],
    ]
    for (const [p, j, k, at] of runs)
      await db.query(
        `INSERT INTO journey_runs (workspace_id, profile_id, run_id, journey_id, version, entry_key, status, state, started_at, updated_at)
         VALUES ('default', $1, $2, $3, 1, $4, 'completed', '{}', $5, $5)`,
        [p, `r-${p}-${j}-${k}`, j, k, at],
      )
  })
  afterAll(() => db.close())

  const keys = async (profileId: string, history: Parameters<typeof pastEntries>[4]) =>
    (await pastEntries(db, 'default', profileId, 'tips', history, now)).map((e) => e.key)

  it('reads the first entry, a window, all or none, of the journey only', async () => {
    expect(await keys(ann, { kind: 'first' })).toEqual(['k1'])
    expect(await keys(ann, { kind: 'since', ms: 4 * 86_400_000 })).toEqual(['k2', 'k3'])
    expect(await keys(ann, { kind: 'all' })).toEqual(['k1', 'k2', 'k3'])
    expect(await keys(ann, { kind: 'none' })).toEqual([])
    expect(await keys(bob, { kind: 'since', ms: 4 * 86_400_000 })).toEqual([])
    expect(await keys(bob, { kind: 'first' })).toEqual(['k4'])
    const [first] = await pastEntries(db, 'default', ann, 'tips', { kind: 'first' }, now)
    expect(first?.enteredAt).toEqual(daysAgo(9))
  })
})
