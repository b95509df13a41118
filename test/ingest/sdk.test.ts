// The official Segment Node SDK, unmodified but for its host, against a listening Nudge.
import { Analytics } from '@segment/analytics-node'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { describeEachDriver } from '../helpers/db.ts'
import { type IngestApp, openIngestApp, WRITE_KEY } from './app.ts'

describeEachDriver('@segment/analytics-node against Nudge', (driver) => {
  let t: IngestApp
  let host: string
  beforeAll(async () => {
    t = await openIngestApp(driver)
    host = await t.app.listen({ port: 0, host: '127.0.0.1' })
  })
  afterAll(() => t.close())

  it('delivers identify, track, page, group and alias calls as rows of the events log', async () => {
    const analytics = new Analytics({ writeKey: WRITE_KEY, host, flushAt: 3, maxRetries: 0 })
    const errors: unknown[] = []
    const statuses: number[] = []
    analytics.on('error', (e) => errors.push(e))
    analytics.on('http_response', (r) => statuses.push(r.status))

    analytics.identify({
      anonymousId: 'anon-7',
      userId: 'ann',
      traits: { email: 'ann@example.org', plan: 'club' },
    })
    analytics.track({
      userId: 'ann',
      event: 'Photo Uploaded',
      properties: { forum: 'beginners', size: 1024 },
    })
    analytics.page({ userId: 'ann', name: 'Rules', properties: { path: '/rules' } })
    analytics.group({ userId: 'ann', groupId: 'photo-club', traits: { name: 'Photo club' } })
    analytics.alias({ userId: 'ann', previousId: 'anon-7' })
    await analytics.closeAndFlush({ timeout: 10_000 })

    expect(errors).toEqual([])
    expect(statuses.length).toBeGreaterThanOrEqual(2) // flushAt 3: more than one batch
    expect(statuses.every((s) => s === 200)).toBe(true)
    const rows = await t.rows()
    expect(rows.map((r) => [r.type, r.name, r.user_id, r.anonymous_id])).toEqual([
      ['identify', null, 'ann', 'anon-7'],
      ['track', 'Photo Uploaded', 'ann', null],
      ['page', 'Rules', 'ann', null],
      ['group', null, 'ann', null],
      ['alias', null, 'ann', null],
    ])
    // The SDK's own messageIds are kept, so its retries are idempotent.
    expect(rows.every((r) => r.message_id === r.payload.messageId && r.message_id.length > 10)).toBe(true)
    expect(rows[0]?.payload).toMatchObject({ traits: { email: 'ann@example.org', plan: 'club' } })
    expect(rows[1]?.payload).toMatchObject({
      properties: { forum: 'beginners', size: 1024 },
      context: { library: { name: '@segment/analytics-node' } },
    })
    expect(rows[3]?.payload.groupId).toBe('photo-club')
    expect(rows[4]?.payload.previousId).toBe('anon-7')
    // The SDK stamps its calls with the host's clock; the server clock is a FakeClock on 2026-03-01.
    for (const r of rows) {
      expect(r.received_at.toISOString()).toBe('2026-03-01T12:00:00.000Z')
      expect(Math.abs(r.timestamp.getTime() - r.received_at.getTime())).toBeLessThan(60_000)
    }
  })
})
