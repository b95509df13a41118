// Everything decide() needs about one profile, in one round trip: the suppressions that
// match its identities or address, its subscription preferences, and its messages the
// guards let through since the history horizon ('sent' once handed or being handed to a
// channel, 'pending' while decided but waiting). Discarded and failed messages hold nothing.
import type { Channel, GuardState, SubscriptionPreference } from '../domain/guards/types.ts'
import type { Queryable } from './db.ts'
import { guardKindOf, type Suppression, suppressionHash } from './suppressions.ts'

interface Row {
  suppressions: { reason: string; channel: string | null; at: string }[]
  preferences: { topic: string; channel: string; subscribed: boolean; at: string }[]
  history: {
    id: string
    status: string
    at: string
    channel: string
    category: string
    transactional: boolean
    key: string | null
  }[]
}

export async function loadGuardState(
  db: Queryable,
  workspaceId: string,
  profileId: string,
  identities: readonly Suppression[],
  since: Date,
): Promise<GuardState> {
  const rows = await db.query<Row>(
    `SELECT
       (SELECT coalesce(json_agg(json_build_object('reason', reason, 'channel', channel, 'at', created_at)
                                 ORDER BY created_at), '[]')
        FROM suppressions WHERE workspace_id = $1 AND value_hash = ANY($3::text[])) AS suppressions,
       (SELECT coalesce(json_agg(json_build_object('topic', topic, 'channel', channel, 'subscribed', subscribed,
                                                   'at', updated_at)), '[]')
        FROM subscription_preferences WHERE workspace_id = $1 AND profile_id = $2) AS preferences,
       (SELECT coalesce(json_agg(json_build_object('id', message_id, 'status', status,
                                                   'at', coalesce(sent_at, decided_at), 'channel', channel,
                                                   'category', category, 'transactional', transactional,
                                                   'key', dedupe_key)), '[]')
        FROM messages
        WHERE workspace_id = $1 AND profile_id = $2 AND decided_at IS NOT NULL
          AND status IN ('queued', 'sending', 'sent', 'delivered', 'opened', 'clicked')
          AND coalesce(sent_at, decided_at) > $4) AS history`,
    [workspaceId, profileId, identities.map((v) => suppressionHash(v.kind, v.value)), since.toISOString()],
  )
  const r = rows[0] ?? { suppressions: [], preferences: [], history: [] }
  return {
    suppressions: r.suppressions.map((s) => ({
      kind: guardKindOf(s.reason),
      channel: s.channel as Channel | null,
      at: new Date(s.at),
      reason: s.reason,
    })),
    preferences: r.preferences.map((p) => ({
      topic: p.topic,
      channel: p.channel as SubscriptionPreference['channel'],
      subscribed: p.subscribed,
      updatedAt: new Date(p.at),
    })),
    history: r.history.map((m) => ({
      messageId: m.id,
      status: m.status === 'queued' ? 'pending' : 'sent',
      at: new Date(m.at),
      channel: m.channel as Channel,
      category: m.category,
      transactional: m.transactional,
      dedupeKey: m.key,
    })),
  }
}
