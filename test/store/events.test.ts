import { afterAll, beforeAll, expect, it } from 'vitest'
import type { NewEvent } from '../../src/domain/events/types.ts'
import { EVENTS_CHANNEL, insertEvents } from '../../src/store/events.ts'
import { describeEachDriver, openTestDb, type TestDb } from '../helpers/db.ts'

const ev = (messageId: string, userId = 'u1'): NewEvent => ({
  workspaceId: 'default',
  messageId,
  type: 'track',
  name: 'Post Created',
  userId,
  anonymousId: null,
  timestamp: new Date('2026-01-01T10:00:00Z'),
  receivedAt: new Date('2026-01-01T10:00:01Z'),
  partition: 3,
  payload: { event: 'Post Created', properties: { forum: 'photo-beginners', nested: { a: [1, 2] } } },
})

describeEachDriver('events log', (driver) => {
  let db: TestDb
  beforeAll(async () => {
    db = await openTestDb(driver)
  })
  afterAll(() => db.close())

  it('stores a batch and skips messageIds already in the log', async () => {
    const first = await insertEvents(db, [ev('m1'), ev('m2')])
    expect([...first.inserted].sort()).toEqual(['m1', 'm2'])
    const second = await insertEvents(db, [ev('m2'), ev('m3'), ev('m3')])
    expect([...second.inserted]).toEqual(['m3'])
    const rows = await db.query<{ message_id: string; payload: unknown; timestamp: Date }>(
      'SELECT message_id, payload, timestamp FROM events ORDER BY seq',
    )
    expect(rows.map((r) => r.message_id)).toEqual(['m1', 'm2', 'm3'])
    expect(rows[0]?.payload).toEqual(ev('m1').payload)
    expect(rows[0]?.timestamp.toISOString()).toBe('2026-01-01T10:00:00.000Z')
  })

  it('notifies listeners when events are committed', async () => {
    let notified = 0
    await db.listen(EVENTS_CHANNEL, () => {
      notified++
    })
    await new Promise((r) => setTimeout(r, 50))
    await insertEvents(db, [ev('m10')])
    await new Promise((r) => setTimeout(r, 100))
    expect(notified).toBeGreaterThanOrEqual(1)
  })
})
