import { afterAll, beforeAll, expect, it } from 'vitest'
import {
  applyJourney,
  getJourneyVersion,
  liveJourneys,
  publishVersion,
  setJourneyStatus,
} from '../../src/store/journeys.ts'
import { describeEachDriver, openTestDb, type TestDb } from '../helpers/db.ts'

const v1 = { id: 'welcome', name: 'Welcome', trigger: { type: 'event', event: 'Signed Up' }, steps: [] }

describeEachDriver('journey versions', (driver) => {
  let db: TestDb
  beforeAll(async () => {
    db = await openTestDb(driver)
  })
  afterAll(() => db.close())

  it('creates, ignores an identical re-apply, and versions a change', async () => {
    const a = await db.transaction((tx) => applyJourney(tx, 'default', v1))
    expect(a.outcome).toBe('created')
    expect(a.journey).toMatchObject({ status: 'draft', latestVersion: 1, liveVersion: null })
    // Same content with keys in another order: same checksum.
    const same = { steps: [], trigger: { event: 'Signed Up', type: 'event' }, name: 'Welcome', id: 'welcome' }
    expect((await db.transaction((tx) => applyJourney(tx, 'default', same))).outcome).toBe('unchanged')
    const b = await db.transaction((tx) =>
      applyJourney(tx, 'default', { ...v1, name: 'Welcome!' }, { publish: true }),
    )
    expect(b.outcome).toBe('versioned')
    expect(b.journey).toMatchObject({
      status: 'published',
      latestVersion: 2,
      liveVersion: 2,
      name: 'Welcome!',
    })
    // Version 1 is still there, unchanged.
    expect((await getJourneyVersion(db, 'default', 'welcome', 1))?.definition).toEqual(v1)
  })

  it('lists only published journeys at their live version; pause and archive stop entries', async () => {
    await db.transaction((tx) => applyJourney(tx, 'default', { ...v1, name: 'Welcome v3' }))
    let live = await liveJourneys(db, 'default')
    expect(live.map((j) => [j.journeyId, j.version])).toEqual([['welcome', 2]])
    await db.transaction((tx) => publishVersion(tx, 'default', 'welcome'))
    live = await liveJourneys(db, 'default')
    expect(live.map((j) => j.version)).toEqual([3])
    expect(await db.transaction((tx) => setJourneyStatus(tx, 'default', 'welcome', 'paused'))).toBe(true)
    expect(await liveJourneys(db, 'default')).toEqual([])
    await db.transaction((tx) => publishVersion(tx, 'default', 'welcome'))
    expect(await db.transaction((tx) => setJourneyStatus(tx, 'default', 'welcome', 'archived'))).toBe(true)
    expect(await db.transaction((tx) => publishVersion(tx, 'default', 'welcome'))).toBe(false)
    expect(await liveJourneys(db, 'default')).toEqual([])
  })
})
