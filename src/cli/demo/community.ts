// A realistic community, generated deterministically from a seed: visitors who never
// sign up, members who post in several forums, like, get moderated, attend events, and
// a long tail of activity where a few members do most of it (as in real communities).
// Yields Segment calls in time order per member; the whole set spans `days` days.

export interface DemoOptions {
  readonly members: number
  readonly days: number
  readonly end: Date
  readonly seed: number
}

export interface SegmentCall {
  readonly type: 'identify' | 'track' | 'page'
  readonly messageId: string
  readonly timestamp: string
  readonly userId?: string
  readonly anonymousId?: string
  readonly event?: string
  readonly name?: string
  readonly traits?: Record<string, unknown>
  readonly properties?: Record<string, unknown>
  readonly context?: Record<string, unknown>
}

export const FORUMS = ['photo-beginners', 'landscape', 'portrait', 'street', 'gear', 'off-topic'] as const
const TIMEZONES = [
  'Europe/Paris',
  'Europe/London',
  'America/New_York',
  'America/Montreal',
  'Asia/Tokyo',
  'Africa/Dakar',
]
const FIRST = [
  'Ann',
  'Bruno',
  'Chloé',
  'David',
  'Emma',
  'Farid',
  'Gaëlle',
  'Hugo',
  'Inès',
  'Jules',
  'Karim',
  'Léa',
]
const LAST = [
  'Martin',
  'Bernard',
  'Dubois',
  'Thomas',
  'Robert',
  'Richard',
  'Petit',
  'Durand',
  'Leroy',
  'Moreau',
]

/** mulberry32: small, fast, good enough for demo data, and reproducible. */
export function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const DAY = 86_400_000

/** Events of one person, in time order. Roughly 30 per member on average. */
export function* personEvents(i: number, opts: DemoOptions): Generator<SegmentCall> {
  const rnd = prng(opts.seed * 1_000_003 + i)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T
  const start = opts.end.getTime() - opts.days * DAY
  let t = start + rnd() * opts.days * DAY * 0.9
  const anonymousId = `anon-${opts.seed}-${i}`
  const userId = `member-${i}`
  let n = 0
  const id = () => `demo-${opts.seed}-${i}-${n++}`
  const at = () => new Date(Math.min(t, opts.end.getTime() - 1000)).toISOString()
  const step = (maxHours: number) => {
    t += rnd() * maxHours * 3_600_000
    return t < opts.end.getTime()
  }

  // Everyone starts as a visitor reading a few pages.
  const pages = 1 + Math.floor(rnd() * 4)
  for (let p = 0; p < pages; p++) {
    yield {
      type: 'page',
      messageId: id(),
      timestamp: at(),
      anonymousId,
      name: pick(['Home', 'Forum', 'Events', 'Guide']),
    }
    step(2)
  }
  // 15% stay visitors.
  if (rnd() < 0.15) return
  const timezone = pick(TIMEZONES)
  const first = pick(FIRST)
  const last = pick(LAST)
  yield {
    type: 'identify',
    messageId: id(),
    timestamp: at(),
    userId,
    anonymousId,
    traits: {
      email: `${first}.${last}.${i}@example.com`
        .toLowerCase()
        .normalize('NFD')
        .replace(/[\u0300-\u036f]/g, ''),
      name: `${first} ${last}`,
      created_at: at(),
      timezone,
    },
    context: { timezone },
  }
  yield {
    type: 'track',
    messageId: id(),
    timestamp: at(),
    userId,
    event: 'Signed Up',
    properties: { source: pick(['search', 'friend', 'newsletter', 'event']) },
  }
  // Activity follows a long tail: u^3 gives most members little and a few a lot.
  const u = rnd()
  const actions = Math.floor(u * u * u * 130)
  if (rnd() < 0.4) {
    step(72)
    yield {
      type: 'track',
      messageId: id(),
      timestamp: at(),
      userId,
      event: 'Contacts Uploaded',
      properties: { count: 5 + Math.floor(rnd() * 50) },
    }
  }
  const favourite = pick(FORUMS)
  for (let a = 0; a < actions; a++) {
    if (!step(opts.days * 24 * (0.5 / Math.max(actions, 1)) + 6)) return
    const r = rnd()
    const forum = rnd() < 0.6 ? favourite : pick(FORUMS)
    if (r < 0.35)
      yield {
        type: 'track',
        messageId: id(),
        timestamp: at(),
        userId,
        event: 'Post Liked',
        properties: { forum, post_id: `p${Math.floor(rnd() * 1e6)}` },
      }
    else if (r < 0.6)
      yield {
        type: 'track',
        messageId: id(),
        timestamp: at(),
        userId,
        event: 'Comment Created',
        properties: { forum, post_id: `p${Math.floor(rnd() * 1e6)}` },
      }
    else if (r < 0.78)
      yield {
        type: 'track',
        messageId: id(),
        timestamp: at(),
        userId,
        event: 'Post Created',
        properties: { forum, post_id: `p${i}-${a}` },
      }
    else if (r < 0.86)
      yield {
        type: 'track',
        messageId: id(),
        timestamp: at(),
        userId,
        event: 'Topic Created',
        properties: { forum, topic_id: `t${i}-${a}` },
      }
    else if (r < 0.93)
      yield { type: 'page', messageId: id(), timestamp: at(), userId, name: 'Forum', properties: { forum } }
    else if (r < 0.97)
      yield {
        type: 'track',
        messageId: id(),
        timestamp: at(),
        userId,
        event: 'Event Attended',
        properties: { event_id: `ev${Math.floor(rnd() * 40)}` },
      }
    else if (r < 0.985)
      yield {
        type: 'track',
        messageId: id(),
        timestamp: at(),
        userId,
        event: 'Moderation Comment Received',
        properties: { comment: 'read-the-rules', comment_id: `mc${i}-${a}`, post_id: `p${i}-${a}` },
      }
    else
      yield {
        type: 'track',
        messageId: id(),
        timestamp: at(),
        userId,
        event: 'Guide Purchased',
        properties: { guide: 'beginners', price: 19 },
      }
  }
}

export function* community(opts: DemoOptions): Generator<SegmentCall> {
  for (let i = 0; i < opts.members; i++) yield* personEvents(i, opts)
}
