import { afterAll, beforeAll, expect, it } from 'vitest'
import { describeEachDriver } from '../helpers/db.ts'
import { type AdminFixture, adminFixture, otherWorkspace, seedEvents } from './helpers.ts'

describeEachDriver('admin API: events', (driver) => {
  let f: AdminFixture
  let otherKey: string
  beforeAll(async () => {
    f = await adminFixture(driver)
    otherKey = await otherWorkspace(f.db)
    await seedEvents(
      f.db,
      Array.from({ length: 12 }, (_, i) => ({
        messageId: `m${i}`,
        name: i % 3 === 0 ? 'Signed Up' : 'Post Created',
        userId: `u${i}`,
        at: '2026-01-05T10:00:00Z',
      })),
    )
    await seedEvents(f.db, [{ messageId: 'x', workspaceId: 'other', at: '2026-01-05T10:00:00Z' }])
  })
  afterAll(() => f.close())

  const page = async (url: string, headers = f.auth) => {
    const res = await f.app.inject({ method: 'GET', url, headers })
    expect(res.statusCode).toBe(200)
    return res.json() as {
      items: { messageId: string; name: string; processedAt: null }[]
      nextCursor: string | null
    }
  }

  it('lists the newest events first and pages through all of them once', async () => {
    const seen: string[] = []
    let url = '/api/v1/events?limit=5'
    for (;;) {
      const p = await page(url)
      seen.push(...p.items.map((e) => e.messageId))
      if (!p.nextCursor) break
      url = `/api/v1/events?limit=5&cursor=${p.nextCursor}`
    }
    expect(seen).toEqual(Array.from({ length: 12 }, (_, i) => `m${11 - i}`))
  })

  it('filters by name and shows unprocessed events as such', async () => {
    const p = await page('/api/v1/events?name=Signed%20Up')
    expect(p.items.map((e) => e.messageId)).toEqual(['m9', 'm6', 'm3', 'm0'])
    expect(p.items.every((e) => e.name === 'Signed Up' && e.processedAt === null)).toBe(true)
    expect(p.nextCursor).toBeNull()
  })

  it('shows each workspace only its own events', async () => {
    const p = await page('/api/v1/events', { authorization: `Bearer ${otherKey}` })
    expect(p.items.map((e) => e.messageId)).toEqual(['x'])
  })

  it('selects by when events happened, and pages keep the time filter', async () => {
    await seedEvents(f.db, [
      { messageId: 't1', at: '2026-02-01T00:00:00Z' },
      { messageId: 't2', at: '2026-02-10T00:00:00Z' },
      { messageId: 't3', at: '2026-02-12T00:00:00Z' },
      { messageId: 't4', at: '2026-02-20T00:00:00Z' },
    ])
    const window = 'since=2026-02-05T00:00:00Z&until=2026-02-20T00:00:00Z'
    const first = await page(`/api/v1/events?${window}&limit=1`)
    expect(first.items.map((e) => e.messageId)).toEqual(['t3'])
    const second = await page(`/api/v1/events?${window}&limit=1&cursor=${first.nextCursor}`)
    expect(second.items.map((e) => e.messageId)).toEqual(['t2'])
    expect(second.nextCursor).toBeNull()
    const bad = await f.app.inject({ method: 'GET', url: '/api/v1/events?since=yesterday', headers: f.auth })
    expect(bad.statusCode).toBe(400)
    expect(bad.json().error.issues[0].path).toBe('query.since')
  })
})
