// Subscription preferences (topic x channel, '*' for all), written by the unsubscribe link
// and the preferences page, read by the subscription guard.
import type { SubscriptionPreference } from '../domain/guards/types.ts'
import type { PreferenceChange } from '../domain/preferences.ts'
import type { Queryable } from './db.ts'
import { emitProfileEvents } from './profile-events.ts'

export async function listPreferences(
  db: Queryable,
  workspaceId: string,
  profileId: string,
): Promise<SubscriptionPreference[]> {
  const rows = await db.query<{ topic: string; channel: string; subscribed: boolean; updated_at: Date }>(
    `SELECT topic, channel, subscribed, updated_at FROM subscription_preferences
     WHERE workspace_id = $1 AND profile_id = $2 ORDER BY topic, channel`,
    [workspaceId, profileId],
  )
  return rows.map((r) => ({
    topic: r.topic,
    channel: r.channel as SubscriptionPreference['channel'],
    subscribed: r.subscribed,
    updatedAt: r.updated_at,
  }))
}

export async function upsertPreferences(
  db: Queryable,
  workspaceId: string,
  profileId: string,
  changes: readonly PreferenceChange[],
  at: Date,
): Promise<void> {
  if (changes.length === 0) return
  await db.query(
    `INSERT INTO subscription_preferences (workspace_id, profile_id, topic, channel, subscribed, updated_at)
     SELECT $1, $2::uuid, x.t, x.c, x.s, $4 FROM jsonb_to_recordset($3::jsonb) AS x(t text, c text, s boolean)
     ON CONFLICT (workspace_id, profile_id, topic, channel)
     DO UPDATE SET subscribed = EXCLUDED.subscribed, updated_at = EXCLUDED.updated_at`,
    [
      workspaceId,
      profileId,
      JSON.stringify(changes.map((c) => ({ t: c.topic, c: c.channel, s: c.subscribed }))),
      at.toISOString(),
    ],
  )
}

export async function deletePreference(
  db: Queryable,
  workspaceId: string,
  profileId: string,
  topic: string,
  channel: string,
): Promise<void> {
  await db.query(
    'DELETE FROM subscription_preferences WHERE workspace_id = $1 AND profile_id = $2 AND topic = $3 AND channel = $4',
    [workspaceId, profileId, topic, channel],
  )
}

/**
 * Applies a member's changes and emits one event per change: `Unsubscribed` or
 * `Subscribed`, with { topic, subscription_channel, source } and, when the change came from
 * a message's link, that message's ids (its `channel` is the message's channel). Withdrawing "stop everything" is a `Subscribed` to '*' x '*'.
 * Nothing changed, nothing emitted: a second click on the same link is a no-op.
 */
export async function savePreferences(
  db: Queryable,
  input: {
    readonly workspaceId: string
    readonly profileId: string
    readonly upserts: readonly PreferenceChange[]
    readonly removeStopAll?: boolean
    readonly at: Date
    readonly source: string
    readonly messageProperties?: Readonly<Record<string, unknown>>
  },
): Promise<number> {
  const { workspaceId, profileId, at } = input
  if (input.removeStopAll) await deletePreference(db, workspaceId, profileId, '*', '*')
  await upsertPreferences(db, workspaceId, profileId, input.upserts, at)
  const changes = [
    ...(input.removeStopAll ? [{ topic: '*', channel: '*', subscribed: true }] : []),
    ...input.upserts,
  ]
  await emitProfileEvents(
    db,
    changes.map((c) => ({
      workspaceId,
      profileId,
      messageId: `nudge:${c.subscribed ? 'subscribed' : 'unsubscribed'}:${profileId}:${c.topic}:${c.channel}:${at.getTime()}`,
      name: c.subscribed ? 'Subscribed' : 'Unsubscribed',
      properties: {
        ...input.messageProperties,
        topic: c.topic,
        subscription_channel: c.channel,
        source: input.source,
      },
      at,
      source: 'preferences',
    })),
  )
  return changes.length
}
