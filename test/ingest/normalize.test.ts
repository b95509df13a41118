import { describe, expect, it } from 'vitest'
import { MAX_EVENT_BYTES, MAX_NESTING_DEPTH } from '../../src/domain/events/limits.ts'
import { type NormalizeContext, normalizeBatch, normalizeEvent } from '../../src/domain/events/normalize.ts'
import { partitionOf } from '../../src/domain/events/partition.ts'
import { parseSegmentDate, resolveTimestamp } from '../../src/domain/events/timestamps.ts'

const receivedAt = new Date('2026-03-01T12:00:00.000Z')
const ctx: NormalizeContext = { workspaceId: 'w1', receivedAt, newMessageId: () => 'generated-id' }

const ok = (raw: unknown, type: Parameters<typeof normalizeEvent>[1] = 'track') => {
  const r = normalizeEvent(raw, type, ctx)
  if (!r.ok) throw new Error(`expected a valid event, got ${JSON.stringify(r.issues)}`)
  return r.event
}
const issues = (raw: unknown, type: Parameters<typeof normalizeEvent>[1] = 'track') => {
  const r = normalizeEvent(raw, type, ctx)
  if (r.ok) throw new Error('expected issues')
  return r
}

describe('Segment calls to events', () => {
  it('normalises a track call: name, ids as strings, partition, payload without the write key', () => {
    const e = ok({
      userId: 42,
      anonymousId: 'anon-1',
      event: 'Post Created',
      messageId: 7,
      properties: { forum: 'beginners' },
      writeKey: 'secret',
      _metadata: { nodeVersion: '24' },
      integrations: { All: true },
      context: { library: { name: 'analytics-node', version: '3.1.0' } },
    })
    expect(e).toMatchObject({
      workspaceId: 'w1',
      messageId: '7',
      type: 'track',
      name: 'Post Created',
      userId: '42',
      anonymousId: 'anon-1',
      partition: partitionOf('w1', '42', 'anon-1'),
      receivedAt,
      timestamp: receivedAt,
    })
    expect(e.payload).not.toHaveProperty('writeKey')
    expect(e.payload).toMatchObject({
      userId: '42',
      messageId: '7',
      type: 'track',
      properties: { forum: 'beginners' },
      _metadata: { nodeVersion: '24' },
      context: { library: { name: 'analytics-node', version: '3.1.0' } },
    })
  })

  it('names page and screen events by their name, identify/group/alias not at all', () => {
    expect(ok({ anonymousId: 'a', name: 'Pricing' }, 'page').name).toBe('Pricing')
    expect(ok({ anonymousId: 'a', name: 'Home' }, 'screen').name).toBe('Home')
    expect(ok({ anonymousId: 'a' }, 'page').name).toBeNull()
    expect(ok({ userId: 'u', traits: { email: 'a@b.c' } }, 'identify').name).toBeNull()
    expect(ok({ userId: 'u', groupId: 9 }, 'group').payload.groupId).toBe('9')
    expect(ok({ userId: 'u', previousId: 'anon' }, 'alias').payload.previousId).toBe('anon')
  })

  it('generates a messageId only when none was sent', () => {
    expect(ok({ userId: 'u', event: 'E' }).messageId).toBe('generated-id')
    expect(ok({ userId: 'u', event: 'E', messageId: 'm-1' }).messageId).toBe('m-1')
  })

  it('requires an identity, the track event name, the group id and the alias ids', () => {
    expect(issues({ event: 'E' }).issues).toEqual([
      { path: 'userId', message: 'userId or anonymousId is required' },
    ])
    expect(issues({ userId: '', anonymousId: null, event: 'E' }).issues[0]?.path).toBe('userId')
    expect(issues({ userId: 'u' }).issues).toEqual([
      { path: 'event', message: 'is required for track (the event name)' },
    ])
    expect(issues({ userId: 'u', event: '' }).issues[0]?.path).toBe('event')
    expect(issues({ userId: 'u' }, 'group').issues[0]?.path).toBe('groupId')
    expect(issues({ userId: 'u' }, 'alias').issues[0]?.path).toBe('previousId')
    expect(issues({ anonymousId: 'a', previousId: 'p' }, 'alias').issues[0]).toEqual({
      path: 'userId',
      message: 'is required for alias',
    })
  })

  it('rejects wrong types with the path of the field', () => {
    expect(issues({ userId: true, event: 'E' }).issues).toEqual([
      { path: 'userId', message: 'must be a string or a number' },
    ])
    expect(issues({ userId: 'u', event: 'E', properties: [1] }).issues[0]?.path).toBe('properties')
    expect(issues({ userId: 'u', event: 'E', context: 'x' }).issues[0]?.path).toBe('context')
    expect(issues({ userId: 'u', event: 'E', timestamp: 'yesterday' }).issues[0]?.path).toBe('timestamp')
    expect(issues('not an event').issues).toEqual([{ path: '', message: 'must be an object (one event)' }])
  })

  it(`rejects nesting deeper than ${MAX_NESTING_DEPTH} levels and accepts exactly that`, () => {
    const nest = (levels: number): unknown => (levels === 1 ? { leaf: 1 } : { a: nest(levels - 1) })
    expect(ok({ userId: 'u', event: 'E', properties: nest(MAX_NESTING_DEPTH) }).type).toBe('track')
    const r = issues({ userId: 'u', event: 'E', properties: nest(MAX_NESTING_DEPTH + 1) })
    expect(r.issues[0]?.path).toBe(`properties${'.a'.repeat(MAX_NESTING_DEPTH)}`)
    expect(r.issues[0]?.message).toMatch(/nested deeper than 16 levels/)
    expect(issues({ userId: 'u', traits: nest(40) }, 'identify').issues[0]?.path.startsWith('traits.a')).toBe(
      true,
    )
  })

  it('rejects what PostgreSQL cannot store: NUL characters and unpaired surrogates, in values and keys', () => {
    expect(issues({ userId: 'u', event: 'E', properties: { a: ['x', 'y\u0000'] } }).issues[0]?.path).toBe(
      'properties.a[1]',
    )
    expect(issues({ userId: 'u\ud800', event: 'E' }).issues[0]?.path).toBe('userId')
    expect(issues({ userId: 'u', event: 'E', properties: { 'bad\u0000key': 1 } }).issues[0]?.path).toBe(
      'properties["bad\\u0000key"]',
    )
  })

  it('rejects an event over 32 KB with its size', () => {
    const r = issues({ userId: 'u', event: 'E', properties: { blob: 'x'.repeat(MAX_EVENT_BYTES) } })
    expect(r.code).toBe('NUDGE_ERR_EVENT_TOO_LARGE')
    expect(r.issues[0]?.message).toMatch(/^is \d+ bytes; an event may be at most 32768 bytes/)
    // Multi-byte characters count as their UTF-8 bytes.
    const e = normalizeEvent({ userId: 'u', event: 'E', p: 'é'.repeat(17_000) }, 'track', ctx)
    expect(e.ok).toBe(false)
  })
})

describe('timestamps', () => {
  it('parses ISO-8601 dates, reading a missing offset as UTC', () => {
    expect(parseSegmentDate('2026-01-31T09:30:00.123Z')?.toISOString()).toBe('2026-01-31T09:30:00.123Z')
    expect(parseSegmentDate('2026-01-31T09:30:00+02:00')?.toISOString()).toBe('2026-01-31T07:30:00.000Z')
    expect(parseSegmentDate('2026-01-31T09:30:00-0130')?.toISOString()).toBe('2026-01-31T11:00:00.000Z')
    expect(parseSegmentDate('2026-01-31T09:30')?.toISOString()).toBe('2026-01-31T09:30:00.000Z')
    expect(parseSegmentDate('2026-01-31')?.toISOString()).toBe('2026-01-31T00:00:00.000Z')
    expect(parseSegmentDate('0050-06-01T00:00:00Z')?.toISOString()).toBe('0050-06-01T00:00:00.000Z')
    for (const bad of [
      '2026-02-30',
      '2026-13-01',
      '2026-01-01T24:00:00Z',
      '0000-01-01',
      'yesterday',
      '1700000000',
      '',
    ])
      expect(parseSegmentDate(bad), bad).toBeUndefined()
  })

  it('corrects client clock skew: timestamp = receivedAt - (sentAt - client time)', () => {
    // The client clock is 1 hour fast; the call happened 10 s before it was sent.
    const e = ok({
      userId: 'u',
      event: 'E',
      timestamp: '2026-03-01T13:00:00.000Z',
      sentAt: '2026-03-01T13:00:10.000Z',
    })
    expect(e.timestamp.toISOString()).toBe('2026-03-01T11:59:50.000Z')
    expect(e.payload).toMatchObject({
      timestamp: '2026-03-01T11:59:50.000Z',
      originalTimestamp: '2026-03-01T13:00:00.000Z',
      sentAt: '2026-03-01T13:00:10.000Z',
      receivedAt: '2026-03-01T12:00:00.000Z',
    })
  })

  it('prefers originalTimestamp as the client time, and uses a batch-level sentAt', () => {
    const r = normalizeBatch(
      {
        sentAt: '2026-03-01T12:00:30.000Z',
        batch: [
          {
            type: 'track',
            userId: 'u',
            event: 'E',
            originalTimestamp: '2026-03-01T12:00:00.000Z',
            timestamp: '1999-01-01',
          },
        ],
      },
      ctx,
    )
    expect(r.ok && r.events[0]?.timestamp.toISOString()).toBe('2026-03-01T11:59:30.000Z')
  })

  it('keeps a client time without sentAt as is (historical imports), else uses receivedAt', () => {
    expect(ok({ userId: 'u', event: 'E', timestamp: '2019-05-01T00:00:00Z' }).timestamp.toISOString()).toBe(
      '2019-05-01T00:00:00.000Z',
    )
    expect(ok({ userId: 'u', event: 'E', sentAt: '2019-05-01T00:00:00Z' }).timestamp).toEqual(receivedAt)
  })

  it('refuses a correction that lands outside years 0001-9999', () => {
    expect(
      resolveTimestamp({ timestamp: new Date('9999-01-01'), sentAt: new Date('0001-01-01') }, receivedAt),
    ).toBeUndefined()
    expect(
      issues({ userId: 'u', event: 'E', timestamp: '9999-01-01', sentAt: '0001-01-01' }).issues[0]?.path,
    ).toBe('sentAt')
  })
})

describe('batches', () => {
  it('keeps valid items, reports invalid ones by index and path, and merges batch context', () => {
    const r = normalizeBatch(
      {
        writeKey: 'k',
        context: { ip: '1.2.3.4', locale: 'fr' },
        batch: [
          { type: 'identify', userId: 'u', context: { locale: 'en' } },
          { type: 'track', userId: 'u' },
          { type: 'bogus', userId: 'u' },
          { type: 'page', anonymousId: 'a', writeKey: 'k' },
        ],
      },
      ctx,
    )
    if (!r.ok) throw new Error('expected a batch')
    expect(r.events.map((e) => e.type)).toEqual(['identify', 'page'])
    expect(r.events[0]?.payload.context).toEqual({ ip: '1.2.3.4', locale: 'en' })
    expect(r.events[1]?.payload).not.toHaveProperty('writeKey')
    expect(r.rejected).toEqual([
      {
        index: 1,
        code: 'NUDGE_ERR_VALIDATION',
        issues: [{ path: 'batch[1].event', message: 'is required for track (the event name)' }],
      },
      {
        index: 2,
        code: 'NUDGE_ERR_VALIDATION',
        issues: [
          { path: 'batch[2].type', message: 'must be one of identify, track, page, screen, group, alias' },
        ],
      },
    ])
  })

  it('refuses what is not a batch', () => {
    expect(normalizeBatch([{ type: 'track' }], ctx)).toMatchObject({ ok: false })
    expect(normalizeBatch({ batch: { 0: {} } }, ctx)).toEqual({
      ok: false,
      issues: [{ path: 'batch', message: 'must be an array of events (the body is not a batch)' }],
    })
    expect(normalizeBatch({ userId: 'u', event: 'E' }, ctx)).toMatchObject({ ok: false })
  })
})
