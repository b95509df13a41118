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
  const [state] = await loadGuardStates(db, [{ workspaceId, profileId, identities, since }])
  return state as GuardState
}

export interface GuardStateQuery {
  readonly workspaceId: string
  readonly profileId: string
  readonly identities: readonly Suppression[]
  readonly since: Date
}

/** loadGuardState for many profiles in one round trip; answers in the order asked. */
export async function loadGuardStates(
  db: Queryable,
  queries: readonly GuardStateQuery[],
): Promise<GuardState[]> {
  if (queries.length === 0) return []
  const rows = await db.query<Row & { n: number }>(
    `SELECT x.n,
       (SELECT coalesce(json_agg(json_build_object('reason', reason, 'channel', channel, 'at', created_at)
                                 ORDER BY created_at), '[]')
        FROM suppressions
        WHERE workspace_id = x.w AND value_hash IN (SELECT jsonb_array_elements_text(x.h))) AS suppressions,
       (SELECT coalesce(json_agg(json_build_object('topic', topic, 'channel', channel, 'subscribed', subscribed,
                                                   'at', updated_at)), '[]')
        FROM subscription_preferences WHERE workspace_id = x.w AND profile_id = x.p) AS preferences,
       (SELECT coalesce(json_agg(json_build_object('id', message_id, 'status', status,
                                                   'at', coalesce(sent_at, decided_at), 'channel', channel,
                                                   'category', category, 'transactional', transactional,
                                                   'key', dedupe_key)), '[]')
        FROM messages
        WHERE workspace_id = x.w AND profile_id = x.p AND decided_at IS NOT NULL
          AND status IN ('queued', 'sending', 'sent', 'delivered', 'opened', 'clicked')
          AND coalesce(sent_at, decided_at) > x.s) AS history
     FROM jsonb_to_recordset($1::jsonb) AS x(n int, w text, p uuid, h jsonb, s timestamptz)`,
    [
      JSON.stringify(
        queries.map((q, n) => ({
          n,
          w: q.workspaceId,
          p: q.profileId,
          h: q.identities.map((v) => suppressionHash(v.kind, v.value)),
          s: q.since.toISOString(),
        })),
      ),
    ],
  )
  const byIndex = new Map(rows.map((r) => [Number(r.n), r]))
  return queries.map((_, n) => stateOf(byIndex.get(n) ?? { suppressions: [], preferences: [], history: [] }))
}

function stateOf(r: Row): GuardState {
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
