// The preferences page's model: which topics and channels a member sees, what each box
// shows (the choice the subscription guard would apply), and the rows to write when the
// member saves. Pure: the route loads the rows and writes what this returns.
import { preferenceInForce } from './guards/subscription.ts'
import type { SubscriptionPreference } from './guards/types.ts'

export interface TopicInfo {
  readonly id: string
  readonly label: string
  readonly description?: string
}

/** Used when the workspace lists no topics (`settings.topics`). */
export const DEFAULT_TOPICS: readonly TopicInfo[] = [
  { id: 'marketing', label: 'News and offers' },
  { id: 'newsletter', label: 'Newsletter' },
  { id: 'tips', label: 'Tips for getting started' },
  { id: 'community', label: 'Community activity' },
]

/** The channels a member can choose between (webhooks do not reach a person). */
export const MEMBER_CHANNELS = [
  { id: 'email', label: 'Email' },
  { id: 'sms', label: 'SMS' },
  { id: 'push', label: 'Push' },
  { id: 'in_app', label: 'On the site' },
] as const

const TOPIC_ID = /^[a-z0-9][a-z0-9_.-]{0,63}$/i

/**
 * `settings.topics` is a list of ids ("tips") or of { id, label, description }; anything
 * else falls back to the defaults. Topics the member has choices for are added at the end,
 * so a choice made through an unsubscribe link is always visible and reversible.
 */
export function pageTopics(settings: unknown, prefs: readonly SubscriptionPreference[]): TopicInfo[] {
  const raw = (settings as { topics?: unknown } | null)?.topics
  const listed: TopicInfo[] = []
  if (Array.isArray(raw)) {
    for (const t of raw) {
      if (typeof t === 'string' && TOPIC_ID.test(t)) listed.push({ id: t, label: t })
      else if (t && typeof t === 'object' && typeof t.id === 'string' && TOPIC_ID.test(t.id)) {
        listed.push({
          id: t.id,
          label: typeof t.label === 'string' ? t.label : t.id,
          ...(typeof t.description === 'string' ? { description: t.description } : {}),
        })
      }
    }
  }
  const topics = listed.length ? listed : [...DEFAULT_TOPICS]
  for (const p of prefs) {
    if (p.topic !== '*' && !topics.some((t) => t.id === p.topic)) topics.push({ id: p.topic, label: p.topic })
  }
  return topics
}

export function isSubscribed(
  prefs: readonly SubscriptionPreference[],
  topic: string,
  channel: string,
): boolean {
  return preferenceInForce(prefs, topic, channel)?.subscribed ?? true
}

/** The "stop everything" choice: a ('*', '*') row saying no. */
export function stoppedAll(prefs: readonly SubscriptionPreference[]): boolean {
  return prefs.some((p) => p.topic === '*' && p.channel === '*' && !p.subscribed)
}

export interface PreferenceChange {
  readonly topic: string
  readonly channel: string
  readonly subscribed: boolean
}

export interface SavePlan {
  /** Rows to upsert at `now`. */
  readonly upserts: readonly PreferenceChange[]
  /** True when the ('*', '*') "stop everything" row is withdrawn. */
  readonly removeStopAll: boolean
}

/**
 * From what the member ticked to the rows that make every box read as ticked. Only boxes
 * whose value changes are written, so old choices the member did not touch keep their time.
 */
export function planSave(
  prefs: readonly SubscriptionPreference[],
  form: { readonly stopAll: boolean; readonly checked: ReadonlySet<string> },
  topics: readonly string[],
  channels: readonly string[],
  now: Date,
): SavePlan {
  if (form.stopAll) {
    return stoppedAll(prefs)
      ? { upserts: [], removeStopAll: false }
      : { upserts: [{ topic: '*', channel: '*', subscribed: false }], removeStopAll: false }
  }
  const removeStopAll = stoppedAll(prefs)
  let current = removeStopAll ? prefs.filter((p) => !(p.topic === '*' && p.channel === '*')) : [...prefs]
  const upserts: PreferenceChange[] = []
  for (const topic of topics) {
    for (const channel of channels) {
      const want = form.checked.has(cellKey(topic, channel))
      if (isSubscribed(current, topic, channel) === want) continue
      upserts.push({ topic, channel, subscribed: want })
      current = [
        ...current.filter((p) => !(p.topic === topic && p.channel === channel)),
        { topic, channel: channel as SubscriptionPreference['channel'], subscribed: want, updatedAt: now },
      ]
    }
  }
  return { upserts, removeStopAll }
}

/** The form field name of one box. */
export function cellKey(topic: string, channel: string): string {
  return `s.${topic}.${channel}`
}
