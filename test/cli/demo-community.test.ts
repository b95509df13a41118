import { describe, expect, it } from 'vitest'
import { community } from '../../src/cli/demo/community.ts'

const opts = { members: 500, days: 182, end: new Date('2026-06-30T00:00:00Z'), seed: 7 }

describe('demo community', () => {
  const events = [...community(opts)]

  it('is reproducible from its seed', () => {
    expect([...community(opts)]).toEqual(events)
    expect([...community({ ...opts, seed: 8 })]).not.toEqual(events)
  })

  it('has about thirty events per member, all inside the period, unique ids', () => {
    expect(events.length / opts.members).toBeGreaterThan(20)
    expect(events.length / opts.members).toBeLessThan(45)
    const start = opts.end.getTime() - opts.days * 86_400_000
    for (const e of events) {
      const t = Date.parse(e.timestamp)
      expect(t).toBeGreaterThanOrEqual(start)
      expect(t).toBeLessThan(opts.end.getTime())
    }
    expect(new Set(events.map((e) => e.messageId)).size).toBe(events.length)
  })

  it('has visitors who never sign up, members, and a long tail of very active members', () => {
    const signUps = events.filter((e) => e.event === 'Signed Up').length
    expect(signUps).toBeGreaterThan(opts.members * 0.7)
    expect(signUps).toBeLessThan(opts.members * 0.95)
    const perUser = new Map<string, number>()
    for (const e of events) if (e.userId) perUser.set(e.userId, (perUser.get(e.userId) ?? 0) + 1)
    const counts = [...perUser.values()].sort((a, b) => b - a)
    const top10pct = counts.slice(0, Math.ceil(counts.length / 10)).reduce((a, b) => a + b, 0)
    const all = counts.reduce((a, b) => a + b, 0)
    expect(top10pct / all).toBeGreaterThan(0.3)
    expect(events.some((e) => e.event === 'Moderation Comment Received')).toBe(true)
    expect(
      events.some((e) => e.properties?.['forum'] === 'photo-beginners' && e.event === 'Post Created'),
    ).toBe(true)
  })

  it('keeps each member in time order', () => {
    const last = new Map<string, number>()
    for (const e of events) {
      const who = e.userId ?? e.anonymousId ?? ''
      const key = who.replace(/^anon-\d+-/, 'member-')
      const t = Date.parse(e.timestamp)
      expect(t).toBeGreaterThanOrEqual(last.get(key) ?? 0)
      last.set(key, t)
    }
  })
})
