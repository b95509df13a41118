// Property-based tests over the validators: whatever JSON arrives, the answer is a
// NewEvent or issues with paths, never an exception; and whatever is accepted can
// be stored and read back unchanged (a bad event must never fail a shared write).
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { joinPath } from '../../src/domain/events/json-check.ts'
import { MAX_ID_LENGTH } from '../../src/domain/events/limits.ts'
import {
  type EventResult,
  type NormalizeContext,
  normalizeBatch,
  normalizeEvent,
} from '../../src/domain/events/normalize.ts'
import { BatchEnvelope, callSchemas, eventType } from '../../src/domain/events/segment.ts'
import { checkCall, checkEnvelope, checkEventType } from '../../src/domain/events/segment-check.ts'
import { parseAnyIsoDate, parseIsoString } from '../../src/domain/events/timestamps.ts'
import { EVENT_TYPES, type NewEvent } from '../../src/domain/events/types.ts'
import { insertEvents } from '../../src/store/events.ts'
import { describeEachDriver, openTestDb, type TestDb } from '../helpers/db.ts'

let counter = 0
const ctx: NormalizeContext = {
  workspaceId: 'w',
  receivedAt: new Date('2026-03-01T12:00:00.000Z'),
  newMessageId: () => `gen-${++counter}`,
}

/** Strings with what breaks storage mixed in: NUL, lone surrogates, emoji, accents. */
const nastyChar = fc.oneof(
  { weight: 1, arbitrary: fc.constantFrom('\u0000', '\ud800', '\udc00') },
  { weight: 10, arbitrary: fc.constantFrom('a', 'é', '😀', '"', '\\', ' ', '\n', '\u2028') },
  { weight: 5, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
)
const nastyJson = fc.jsonValue({ stringUnit: nastyChar, maxDepth: 4 })
const anyId = fc.oneof(
  fc.string({ unit: nastyChar, maxLength: 20 }),
  fc.integer(),
  fc.double(),
  fc.constant(null),
  fc.boolean(),
)
const anyDate = fc.oneof(
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  fc.string({ maxLength: 30 }),
  fc.integer(),
)

/** Segment-shaped objects with every field sometimes wrong. */
const segmentish = fc.record(
  {
    type: fc.oneof(fc.constantFrom(...EVENT_TYPES), fc.string()),
    userId: anyId,
    anonymousId: anyId,
    messageId: anyId,
    event: fc.oneof(fc.string({ unit: nastyChar, maxLength: 20 }), nastyJson),
    name: fc.oneof(fc.string({ maxLength: 20 }), nastyJson),
    groupId: anyId,
    previousId: anyId,
    timestamp: anyDate,
    sentAt: anyDate,
    properties: nastyJson,
    traits: nastyJson,
    context: nastyJson,
  },
  { requiredKeys: [] },
)

function checkResult(r: EventResult): void {
  if (r.ok) {
    expect(EVENT_TYPES).toContain(r.event.type)
    expect(r.event.userId ?? r.event.anonymousId).toBeTypeOf('string')
    expect(Number.isNaN(r.event.timestamp.getTime())).toBe(false)
    expect(r.event.messageId).toBeTypeOf('string')
  } else {
    expect(r.issues.length).toBeGreaterThan(0)
    for (const i of r.issues) {
      expect(i.path).toBeTypeOf('string')
      expect(i.message.length).toBeGreaterThan(0)
    }
  }
}

describe('validators on arbitrary input', () => {
  it('never throw on any JSON: an event or issues with paths', () => {
    fc.assert(
      fc.property(
        fc.oneof(nastyJson, segmentish),
        fc.constantFrom(undefined, ...EVENT_TYPES),
        (raw, type) => {
          checkResult(normalizeEvent(raw, type, ctx))
          const batch = normalizeBatch({ batch: [raw, raw] }, ctx)
          expect(batch.ok).toBe(true)
          if (batch.ok) expect(batch.events.length + batch.rejected.length).toBe(2)
          const notBatch = normalizeBatch(raw, ctx)
          if (!notBatch.ok) expect(notBatch.issues.length).toBeGreaterThan(0)
        },
      ),
      { numRuns: 1000 },
    )
  })

  it('give the same answer when the JSON text is known to have no \\u escape (plainText)', () => {
    const fixed: NormalizeContext = { ...ctx, newMessageId: () => 'generated' }
    fc.assert(
      fc.property(
        fc.oneof(nastyJson, segmentish),
        fc.constantFrom(undefined, ...EVENT_TYPES),
        (raw, type) => {
          const text = JSON.stringify(raw) ?? 'null'
          const plainText = !text.includes('\\u')
          const checked = normalizeEvent(JSON.parse(text), type, fixed)
          expect(normalizeEvent(JSON.parse(text), type, { ...fixed, plainText })).toEqual(checked)
        },
      ),
      { numRuns: 1000 },
    )
  })

  it('rejected batch items carry their own index in every path', () => {
    fc.assert(
      fc.property(fc.array(segmentish, { maxLength: 8 }), (items) => {
        const r = normalizeBatch({ batch: items }, ctx)
        if (!r.ok) throw new Error('a batch envelope was refused')
        for (const x of r.rejected)
          for (const i of x.issues) expect(i.path.startsWith(`batch[${x.index}]`)).toBe(true)
      }),
      { numRuns: 300 },
    )
  })
})

/** Values at the edges of the rules: around the length limit, empty, non-finite, wrong types. */
const edgy = fc.oneof(
  fc.constantFrom('', null, 0, -0, Number.NaN, Number.POSITIVE_INFINITY, true, [], {}, [1]),
  fc.constantFrom(MAX_ID_LENGTH - 1, MAX_ID_LENGTH, MAX_ID_LENGTH + 1).map((n) => 'x'.repeat(n)),
  fc.constantFrom('2026-02-29T00:00:00.000Z', '2024-02-29T23:59:59.999Z', '0099-12-31T00:00:00.000Z'),
  fc.constantFrom(
    '2026-01-31T24:00:00.000Z',
    '2026-13-01T00:00:00.000Z',
    '2026-01-31T09:30:00.000+01:00',
    'Post Created',
  ),
  anyDate,
  anyId,
)
const fieldNames = [
  'messageId',
  'userId',
  'anonymousId',
  'timestamp',
  'originalTimestamp',
  'sentAt',
  'context',
  'integrations',
  'event',
  'name',
  'category',
  'properties',
  'traits',
  'groupId',
  'previousId',
  'batch',
] as const
const edgyCall = fc.oneof(
  segmentish,
  fc.record(
    Object.fromEntries(fieldNames.map((k) => [k, edgy])) as Record<(typeof fieldNames)[number], typeof edgy>,
    {
      requiredKeys: [],
    },
  ),
)

/**
 * The answer of a zod schema in the shape of the ingest check's. zod runs its
 * length checks even on a non-string that has a length (an array): the ingest check
 * reports one issue per field, the first.
 */
function zodAnswer(
  r: {
    success: boolean
    data?: unknown
    error?: { issues: readonly { path: PropertyKey[]; message: string }[] }
  },
  prefix: string,
) {
  if (r.success) return { ok: true, value: r.data }
  return {
    ok: false,
    issues: (r.error?.issues ?? [])
      .map((i) => ({
        path: i.path.reduce<string>((p, k) => joinPath(p, typeof k === 'symbol' ? String(k) : k), prefix),
        message: i.message,
      }))
      .filter((i, n, all) => n === 0 || all[n - 1]?.path !== i.path),
  }
}

describe('the ingest check agrees with the published zod schemas', () => {
  it('accepts, parses and rejects every call exactly as callSchemas does, issue for issue', () => {
    fc.assert(
      fc.property(
        edgyCall,
        fc.constantFrom(...EVENT_TYPES),
        fc.constantFrom('', 'batch[7]'),
        (raw, type, prefix) => {
          const mine = checkCall(type, raw, prefix)
          const theirs = zodAnswer(callSchemas[type].safeParse(raw), prefix)
          expect(mine.ok ? { ok: true, value: mine.call } : mine).toEqual(theirs)
        },
      ),
      { numRuns: 3000 },
    )
  })

  it('reads batch envelopes and item types exactly as BatchEnvelope and eventType do', () => {
    fc.assert(
      fc.property(edgyCall, fc.oneof(edgy, fc.constantFrom(...EVENT_TYPES)), (raw, type) => {
        const mine = checkEnvelope(raw)
        const theirs = zodAnswer(BatchEnvelope.safeParse(raw), '')
        expect(mine.ok ? { ok: true, value: mine.envelope } : mine).toEqual(theirs)
        const t = eventType.safeParse(type)
        expect(checkEventType(type)).toBe(t.success ? t.data : undefined)
      }),
      { numRuns: 2000 },
    )
  })
})

describe('the fast date path', () => {
  const sdkDate = fc
    .date({
      min: new Date('0001-01-01T00:00:00.000Z'),
      max: new Date('9999-12-31T23:59:59.999Z'),
      noInvalidDate: true,
    })
    .map((d) => d.toISOString())
  it('reads every date an SDK sends as the general parser does', () => {
    fc.assert(
      fc.property(sdkDate, (s) => {
        const fast = parseIsoString(s)
        if (Number(s.slice(0, 4)) >= 100) expect(fast?.toISOString()).toBe(s)
        expect(parseAnyIsoDate(s)?.toISOString()).toBe(s)
      }),
      { numRuns: 2000 },
    )
  })
  it('knows the calendar: month lengths and leap years', () => {
    const at = (day: string) => parseIsoString(`${day}T12:00:00.000Z`)?.toISOString().slice(0, 10)
    expect(['2024-02-29', '2000-02-29', '2026-04-30', '2026-12-31'].map(at)).toEqual([
      '2024-02-29',
      '2000-02-29',
      '2026-04-30',
      '2026-12-31',
    ])
    expect(
      ['2025-02-29', '1900-02-29', '2026-04-31', '2026-02-30', '2026-00-10', '2026-01-00'].map(at),
    ).toEqual([undefined, undefined, undefined, undefined, undefined, undefined])
  })
  it('answers a damaged date like the general parser, or leaves it to it', () => {
    fc.assert(
      fc.property(sdkDate, fc.nat(23), fc.constantFrom(...'0123456789-T:.Z +x'), (s, at, c) => {
        const damaged = `${s.slice(0, at)}${c}${s.slice(at + 1)}`
        const fast = parseIsoString(damaged)
        if (fast) expect(fast).toEqual(parseAnyIsoDate(damaged))
      }),
      { numRuns: 5000 },
    )
  })
})

/** Valid events: string or number ids, JSON properties with ordinary unicode. */
const validEvent = fc
  .record({
    type: fc.constantFrom('track', 'identify', 'page', 'screen', 'group'),
    userId: fc.oneof(fc.string({ minLength: 1, maxLength: 30 }), fc.integer()),
    messageId: fc.uuid(),
    event: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }),
    name: fc.string({ unit: 'grapheme', maxLength: 40 }),
    groupId: fc.oneof(fc.string({ minLength: 1, maxLength: 30 }), fc.nat()),
    properties: fc.dictionary(
      fc.string({ unit: 'grapheme', maxLength: 10 }),
      fc.jsonValue({ stringUnit: 'grapheme', maxDepth: 3 }),
    ),
    timestamp: fc.date({ min: new Date('1990-01-01'), max: new Date('2030-01-01'), noInvalidDate: true }),
  })
  .map((e) => ({ ...e, timestamp: e.timestamp.toISOString() }))

const roundTrip = (v: unknown) => JSON.parse(JSON.stringify(v))

describe('valid events', () => {
  it('normalise to what was sent', () => {
    fc.assert(
      fc.property(validEvent, (e) => {
        const r = normalizeEvent(e, undefined, ctx)
        if (!r.ok) throw new Error(JSON.stringify(r.issues))
        expect(r.event.type).toBe(e.type)
        expect(r.event.userId).toBe(String(e.userId))
        expect(r.event.messageId).toBe(e.messageId)
        expect(r.event.timestamp.toISOString()).toBe(e.timestamp)
        expect(r.event.name).toBe(
          e.type === 'track' ? e.event : e.type === 'page' || e.type === 'screen' ? e.name : null,
        )
        expect(roundTrip(r.event.payload.properties)).toEqual(roundTrip(e.properties))
      }),
      { numRuns: 300 },
    )
  })
})

describeEachDriver('accepted events are storable', (driver) => {
  let db: TestDb
  beforeAll(async () => {
    db = await openTestDb(driver)
  })
  afterAll(() => db.close())

  it('stores every event the validators accept, and reads its payload back unchanged', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(segmentish, validEvent), { minLength: 1, maxLength: 30 }),
        async (items) => {
          const r = normalizeBatch({ batch: items }, ctx)
          if (!r.ok) throw new Error('a batch envelope was refused')
          // One write for the whole batch: any event PostgreSQL refuses would fail it.
          await insertEvents(db, r.events)
          const ids = [...new Set(r.events.map((e: NewEvent) => e.messageId))]
          const rows = await db.query<{ message_id: string; payload: unknown }>(
            'SELECT message_id, payload FROM events WHERE workspace_id = $1 AND message_id = ANY($2::text[])',
            ['w', ids],
          )
          expect(rows.length).toBe(ids.length)
          const byId = new Map(rows.map((row) => [row.message_id, row.payload]))
          for (const e of r.events) {
            if (r.events.filter((x) => x.messageId === e.messageId).length > 1) continue
            expect(byId.get(e.messageId)).toEqual(roundTrip(e.payload))
          }
          await db.exec('TRUNCATE events')
        },
      ),
      { numRuns: 40 },
    )
  })
})
