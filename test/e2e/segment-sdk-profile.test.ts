// The whole path of issue one: the official Segment SDK, unmodified but for its host,
// sends an anonymous visit, a sign-up, activity, a group and an alias to a listening
// Nudge; the processor merges them; the admin API shows one profile and its timeline.
import { Analytics } from '@segment/analytics-node'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { systemClock } from '../../src/domain/clock.ts'
import { buildApp } from '../../src/http/app.ts'
import { silentLogger } from '../../src/log.ts'
import { makeWorkers, type Workers } from '../../src/runtime/workers.ts'
import { ensureDefaultWorkspace } from '../../src/store/workspaces.ts'
import { describeEachDriver, openTestDb, type TestDb } from '../helpers/db.ts'

const WRITE = 'write-key-for-sdk'
const ADMIN = 'admin-key-for-sdk'

describeEachDriver('Segment SDK to merged profile', (driver) => {
  let db: TestDb
  let app: FastifyInstance
  let workers: Workers
  let host: string
  beforeAll(async () => {
    db = await openTestDb(driver)
    await ensureDefaultWorkspace(db, { writeKey: WRITE, adminKey: ADMIN })
    app = await buildApp({ db, log: silentLogger })
    host = await app.listen({ port: 0, host: '127.0.0.1' })
    workers = await makeWorkers({ db, clock: systemClock, log: silentLogger })
  })
  afterAll(async () => {
    await workers.stop()
    await app.close()
    await db.close()
  })

  const admin = async (url: string) => {
    const res = await app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${ADMIN}` } })
    expect(res.statusCode).toBe(200)
    return res.json()
  }

  it('shows identify/track/page/group/alias calls as one merged profile with its timeline', async () => {
    const analytics = new Analytics({ writeKey: WRITE, host, flushAt: 2, maxRetries: 0 })
    const errors: unknown[] = []
    analytics.on('error', (e) => errors.push(e))
    // Before sign-up: an anonymous visitor, and an older id from another device.
    analytics.page({ anonymousId: 'anon-1', name: 'Home' })
    analytics.track({ anonymousId: 'anon-1', event: 'Guide Viewed', properties: { guide: 'beginners' } })
    analytics.track({ anonymousId: 'old-device', event: 'Guide Viewed', properties: { guide: 'portraits' } })
    // Sign-up links the anonymous visitor to the member.
    analytics.identify({
      anonymousId: 'anon-1',
      userId: 'ann',
      traits: { email: 'Ann@Example.org', first_name: 'Ann' },
      context: { timezone: 'Europe/Paris' },
    })
    analytics.track({ userId: 'ann', event: 'Post Created', properties: { forum: 'photo-beginners' } })
    analytics.group({ userId: 'ann', groupId: 'club-lyon', traits: { name: 'Lyon photo club' } })
    analytics.alias({ userId: 'ann', previousId: 'old-device' })
    await analytics.closeAndFlush({ timeout: 10_000 })
    expect(errors).toEqual([])

    await workers.drain()

    const byUser = await admin('/api/v1/profiles/ann')
    const byAnon = await admin('/api/v1/profiles/anon-1')
    const byOld = await admin('/api/v1/profiles/old-device')
    expect(byAnon.id).toBe(byUser.id)
    expect(byOld.id).toBe(byUser.id)
    expect(byUser).toMatchObject({
      userId: 'ann',
      timezone: 'Europe/Paris',
      traits: { email: 'Ann@Example.org', first_name: 'Ann' },
    })
    const identities = byUser.identities
      .map((i: { kind: string; value: string }) => `${i.kind}:${i.value}`)
      .sort()
    expect(identities).toEqual(['anonymous_id:anon-1', 'anonymous_id:old-device', 'user_id:ann'])
    const counters = Object.fromEntries(
      byUser.counters.map((c: { event: string; count: number }) => [c.event, c.count]),
    )
    expect(counters).toMatchObject({ 'Guide Viewed': 2, 'Post Created': 1, 'Page Viewed': 1 })
    expect(byUser.groups.map((g: { groupId: string }) => g.groupId)).toEqual(['club-lyon'])

    const timeline = await admin(`/api/v1/profiles/ann/events?limit=50`)
    const names = timeline.items.map((e: { type: string; name: string | null }) => e.name ?? e.type)
    // Every SDK call is in her timeline, beside the Stage Entered events the community model
    // added (how many depends on how the SDK's batches split the anonymous visits before
    // the merge); she stands at prospect, her email known.
    expect(names.filter((n: string) => n !== 'Stage Entered').sort()).toEqual(
      ['Home', 'Guide Viewed', 'Guide Viewed', 'identify', 'Post Created', 'group', 'alias'].sort(),
    )
    expect(names).toContain('Stage Entered')
    expect(byUser.community.stage.id).toBe('prospect')
    // Found by email too, whatever its case.
    const search = await admin('/api/v1/profiles?q=ann@example.org')
    expect(search.items.map((p: { id: string }) => p.id)).toEqual([byUser.id])
  })
})
