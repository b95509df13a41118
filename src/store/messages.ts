// Messages: the outbox written by journeys in their own transaction, drained by the
// dispatcher, and the log of each message's fate. message_id is the effect's
// idempotency key: queueing the same message twice is a no-op.
import type { Queryable } from './db.ts'

export const OUTBOX_CHANNEL = 'nudge_outbox'

/**
 * queued -> sending (claimed) -> sent -> delivered -> opened -> clicked
 * queued/sending -> deferred (back to queued with a later not_before) | capped | suppressed
 *                 | deduplicated | dropped | bounced | failed
 */
export type MessageStatus =
  | 'queued'
  | 'sending'
  | 'sent'
  | 'delivered'
  | 'opened'
  | 'clicked'
  | 'suppressed'
  | 'deduplicated'
  | 'capped'
  | 'dropped'
  | 'bounced'
  | 'failed'

export interface NewMessage {
  readonly workspaceId: string
  readonly profileId: string
  readonly messageId: string
  readonly journeyId: string | null
  readonly runId: string | null
  readonly stepId: string | null
  readonly channel: string
  readonly template: string
  readonly payload: Readonly<Record<string, unknown>>
  readonly notBefore: Date
  readonly createdAt: Date
}

export interface QueuedMessage extends NewMessage {
  readonly attempts: number
  readonly leaseOwner: string
}

export async function enqueueMessages(db: Queryable, messages: readonly NewMessage[]): Promise<number> {
  if (messages.length === 0) return 0
  const rows = messages.map((m) => ({
    w: m.workspaceId,
    p: m.profileId,
    id: m.messageId,
    j: m.journeyId,
    r: m.runId,
    s: m.stepId,
    c: m.channel,
    t: m.template,
    d: m.payload,
    nb: m.notBefore.toISOString(),
    at: m.createdAt.toISOString(),
  }))
  const inserted = await db.query<{ n: number }>(
    `WITH ins AS (
       INSERT INTO messages (workspace_id, profile_id, message_id, journey_id, run_id, step_id, channel, template,
                             status, payload, not_before, created_at, updated_at)
       SELECT x.w, x.p, x.id, x.j, x.r, x.s, x.c, x.t, 'queued', x.d, x.nb, x.at, x.at
       FROM jsonb_to_recordset($1::jsonb)
         AS x(w text, p uuid, id text, j text, r text, s text, c text, t text, d jsonb, nb timestamptz, at timestamptz)
       ON CONFLICT DO NOTHING
       RETURNING 1
     )
     SELECT count(*)::int AS n, pg_notify('${OUTBOX_CHANNEL}', '') FROM ins`,
    [JSON.stringify(rows)],
  )
  return inserted[0]?.n ?? 0
}

interface MessageRow {
  workspace_id: string
  profile_id: string
  message_id: string
  journey_id: string | null
  run_id: string | null
  step_id: string | null
  channel: string
  template: string
  payload: Record<string, unknown>
  not_before: Date
  created_at: Date
  attempts: number
  lease_owner: string
}

/** Claims due queued messages (or ones whose sender died) for `owner`. */
export async function claimDueMessages(
  db: Queryable,
  owner: string,
  now: Date,
  limit: number,
  leaseMs: number,
): Promise<QueuedMessage[]> {
  const rows = await db.query<MessageRow>(
    `UPDATE messages m SET status = 'sending', lease_owner = $1,
       lease_until = $2::timestamptz + make_interval(secs => $4::double precision / 1000), updated_at = $2
     FROM (
       SELECT workspace_id, profile_id, message_id FROM messages
       WHERE status IN ('queued', 'sending') AND not_before <= $2 AND (lease_until IS NULL OR lease_until < $2)
       ORDER BY not_before
       LIMIT $3
       FOR UPDATE SKIP LOCKED
     ) due
     WHERE m.workspace_id = due.workspace_id AND m.profile_id = due.profile_id AND m.message_id = due.message_id
     RETURNING m.*`,
    [owner, now.toISOString(), limit, leaseMs],
  )
  return rows
    .map((r) => ({
      workspaceId: r.workspace_id,
      profileId: r.profile_id,
      messageId: r.message_id,
      journeyId: r.journey_id,
      runId: r.run_id,
      stepId: r.step_id,
      channel: r.channel,
      template: r.template,
      payload: r.payload,
      notBefore: r.not_before,
      createdAt: r.created_at,
      attempts: r.attempts,
      leaseOwner: r.lease_owner,
    }))
    .sort((a, b) => a.notBefore.getTime() - b.notBefore.getTime())
}

export interface MessageUpdate {
  readonly status: MessageStatus | 'queued'
  readonly at: Date
  readonly error?: string | null
  /** For a message put back in the queue (deferred, retry). */
  readonly notBefore?: Date
  readonly countAttempt?: boolean
  readonly payloadPatch?: Readonly<Record<string, unknown>>
}

/** Settles a claimed message; false when the lease was lost to another worker. */
export async function settleMessage(db: Queryable, m: QueuedMessage, u: MessageUpdate): Promise<boolean> {
  const rows = await db.query(
    `UPDATE messages SET status = $5, updated_at = $6, last_error = $7,
       not_before = coalesce($8, not_before), attempts = attempts + $9,
       payload = payload || $10::jsonb,
       sent_at = CASE WHEN $5 = 'sent' THEN $6 ELSE sent_at END,
       lease_owner = NULL, lease_until = NULL
     WHERE workspace_id = $1 AND profile_id = $2 AND message_id = $3 AND lease_owner = $4
     RETURNING 1`,
    [
      m.workspaceId,
      m.profileId,
      m.messageId,
      m.leaseOwner,
      u.status,
      u.at.toISOString(),
      u.error ?? null,
      u.notBefore?.toISOString() ?? null,
      u.countAttempt ? 1 : 0,
      JSON.stringify(u.payloadPatch ?? {}),
    ],
  )
  return rows.length > 0
}

export async function nextMessageAt(db: Queryable): Promise<Date | null> {
  const rows = await db.query<{ not_before: Date }>(
    `SELECT not_before FROM messages WHERE status = 'queued' ORDER BY not_before LIMIT 1`,
  )
  return rows[0]?.not_before ?? null
}
