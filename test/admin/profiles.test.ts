import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { describeEachDriver } from '../helpers/db.ts'
import { type AdminFixture, adminFixture, seedEvents, seedProfile } from './helpers.ts'

describeEachDriver('admin API: profiles', (driver) => {
  let f: AdminFixture
  let ann: string
  let annAnon: string
  let bob: string
  const get = async (url: string) => {
    const res = await f.app.inject({ method: 'GET', url, headers: f.auth })
    return { status: res.statusCode, body: res.json() }
  }
  // Follows nextCursor to the end and returns the pages' items.
  const all = async (url: string, limit: number) => {
    const pages: string[][] = []
    let cursor: string | null = null
    do {
      const sep = url.includes('?') ? '&' : '?'
      const { status, body } = await get(
        `${url}${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      )
      expect(status).toBe(200)
      pages.push(body.items.map((i: { id?: string; messageId?: string }) => i.id ?? i.messageId))
      cursor = body.nextCursor
    } while (cursor && pages.length < 50)
    return pages
  }

  beforeAll(async () => {
    f = await adminFixture(driver)
    ann = await seedProfile(f.db, {
      userId: 'ann-1',
      anonymousIds: ['anon-ann-a'],
      traits: { email: 'Ann@Example.org', plan: 'pro', age: 42 },
      timezone: 'Europe/Paris',
      createdAt: '2026-01-02T00:00:00Z',
      counters: { 'Post Created': 3, 'Signed Up': 1 },
      groups: { 'photo-club': { name: 'Photo club' } },
    })
    // Ann browsed anonymously first; identify merged that profile into hers.
    annAnon = await seedProfile(f.db, {
      anonymousIds: ['anon-ann-b'],
      traits: { plan: 'pro' },
      createdAt: '2026-01-01T00:00:00Z',
      mergedInto: ann,
    })
    bob = await seedProfile(f.db, {
      userId: 'bob',
      traits: { email: 'bob@example.org', plan: 'free' },
      createdAt: '2026-01-03T00:00:00Z',
    })
    await seedEvents(f.db, [
      { messageId: 'a1', at: '2026-01-05T10:00:00Z', profileId: ann, userId: 'ann-1' },
      { messageId: 'a2', at: '2026-01-05T11:00:00Z', profileId: ann, userId: 'ann-1' },
      // Same timestamp as a2: arrival order (seq) breaks the tie.
      { messageId: 'a3', at: '2026-01-05T11:00:00Z', profileId: ann, userId: 'ann-1' },
      { messageId: 'anon1', at: '2026-01-04T09:00:00Z', profileId: annAnon, anonymousId: 'anon-ann-b' },
      { messageId: 'a4', at: '2026-01-06T08:00:00Z', profileId: ann, userId: 'ann-1' },
      { messageId: 'b1', at: '2026-01-05T12:00:00Z', profileId: bob, userId: 'bob' },
    ])
  })
  afterAll(() => f.close())

  it('finds a profile by userId, anonymousId, profile id and email in any case', async () => {
    for (const q of [
      'ann-1',
      'anon-ann-a',
      'anon-ann-b',
      ann,
      annAnon,
      'ann@example.org',
      'ANN@EXAMPLE.ORG',
    ]) {
      const { body } = await get(`/api/v1/profiles?q=${encodeURIComponent(q)}`)
      expect([q, body.items.map((p: { id: string }) => p.id)]).toEqual([q, [ann]])
    }
    expect((await get('/api/v1/profiles?q=nobody')).body.items).toEqual([])
  })

  it('finds profiles by trait value, never listing merged-away profiles', async () => {
    const pro = await get('/api/v1/profiles?trait=plan:pro')
    expect(pro.body.items.map((p: { userId: string }) => p.userId)).toEqual(['ann-1'])
    const age = await get('/api/v1/profiles?trait=age:42')
    expect(age.body.items.map((p: { id: string }) => p.id)).toEqual([ann])
    const both = await get('/api/v1/profiles?trait=plan:free&q=ann-1')
    expect(both.body.items).toEqual([])
    const everyone = await get('/api/v1/profiles')
    expect(everyone.body.items.map((p: { id: string }) => p.id)).toEqual([bob, ann])
  })

  it('returns a profile with traits, identities, counters, groups and timezone', async () => {
    const { status, body } = await get('/api/v1/profiles/ann-1')
    expect(status).toBe(200)
    expect(body).toMatchObject({
      id: ann,
      userId: 'ann-1',
      traits: { email: 'Ann@Example.org', plan: 'pro', age: 42 },
      timezone: 'Europe/Paris',
      firstSeenAt: '2026-01-02T00:00:00.000Z',
      mergedFrom: [annAnon],
      counters: [
        { event: 'Post Created', count: 3 },
        { event: 'Signed Up', count: 1 },
      ],
      groups: [{ groupId: 'photo-club', traits: { name: 'Photo club' } }],
    })
    expect(
      body.identities.map((i: { kind: string; value: string }) => `${i.kind}:${i.value}`).sort(),
    ).toEqual(['anonymous_id:anon-ann-a', 'anonymous_id:anon-ann-b', 'user_id:ann-1'])
  })

  it('follows merges: the absorbed profile’s ids answer with the surviving profile', async () => {
    for (const id of ['anon-ann-b', annAnon, 'anon-ann-a', ann]) {
      const { status, body } = await get(`/api/v1/profiles/${id}`)
      expect([id, status, body.id]).toEqual([id, 200, ann])
    }
    const missing = await get(`/api/v1/profiles/${randomUUID()}`)
    expect(missing.status).toBe(404)
    expect(missing.body.error.code).toBe('NUDGE_ERR_NOT_FOUND')
  })

  it('pages the timeline newest first, including merged events, without gaps or repeats', async () => {
    const pages = await all('/api/v1/profiles/anon-ann-b/events', 2)
    expect(pages).toEqual([['a4', 'a3'], ['a2', 'a1'], ['anon1']])
    const one = await get('/api/v1/profiles/ann-1/events?limit=1')
    expect(one.body.items[0]).toMatchObject({
      messageId: 'a4',
      type: 'track',
      name: 'Post Created',
      userId: 'ann-1',
      profileId: ann,
      timestamp: '2026-01-06T08:00:00.000Z',
      payload: { properties: { n: 'a4' } },
    })
    expect((await get('/api/v1/profiles/nobody/events')).status).toBe(404)
  })

  it('pages a search across ties in creation time with no duplicate or missing profile', async () => {
    const ids = new Set<string>()
    // 23 profiles, several created at the same instant, so the id must break ties.
    for (let i = 0; i < 23; i++)
      ids.add(
        await seedProfile(f.db, {
          userId: `member-${i}`,
          traits: { cohort: 'spring' },
          createdAt: `2026-02-0${1 + (i % 4)}T00:00:00Z`,
        }),
      )
    const pages = await all('/api/v1/profiles?trait=cohort:spring', 5)
    expect(pages.map((p) => p.length)).toEqual([5, 5, 5, 5, 3])
    const seen = pages.flat()
    expect(seen.length).toBe(23)
    expect(new Set(seen)).toEqual(ids)
    // Newest first: the first page holds profiles of the latest day only.
    const first = await get('/api/v1/profiles?trait=cohort:spring&limit=5')
    expect(new Set(first.body.items.map((p: { createdAt: string }) => p.createdAt))).toEqual(
      new Set(['2026-02-04T00:00:00.000Z']),
    )
  })
})
