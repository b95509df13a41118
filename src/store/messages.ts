// Messages: the outbox written by journeys in their own transaction, drained by the
// dispatcher, and the log of each message's fate. message_id is the effect's
// idempotency key: queueing the same message twice is a no-op.
import type { Verdict } from '../domain/guards/types.ts'
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
  /** The channel rate-limit slot it holds, reserved when it was deferred for the limit. */
  readonly rateSlotAt?: Date | null
}

export async function enqueueMessages(db: Queryable, messages: readonly NewMessage[]): Promise<number> {
  if (messages.length === 0) return 0
  const inserted = await db.query<{ n: number }>(
    `WITH ins AS (${MESSAGES_INSERT('$1')} RETURNING 1)
     SELECT count(*)::int AS n, pg_notify('${OUTBOX_CHANNEL}', '') FROM ins`,
    [messageRows(messages)],
  )
  return inserted[0]?.n ?? 0
}

/** The JSON parameter of MESSAGES_INSERT. */
export function messageRows(messages: readonly NewMessage[]): string {
  return JSON.stringify(
    messages.map((m) => ({
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
    })),
  )
}

/** Queues the messages of `param` (messageRows), a message already queued being left as it is. */
export const MESSAGES_INSERT = (param: string) =>
  `INSERT INTO messages (workspace_id, profile_id, message_id, journey_id, run_id, step_id, channel, template,
                         status, payload, not_before, created_at, updated_at)
   SELECT x.w, x.p, x.id, x.j, x.r, x.s, x.c, x.t, 'queued', x.d, x.nb, x.at, x.at
   FROM jsonb_to_recordset(${param}::jsonb)
     AS x(w text, p uuid, id text, j text, r text, s text, c text, t text, d jsonb, nb timestamptz, at timestamptz)
   ON CONFLICT DO NOTHING`

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
  rate_slot_at: Date | null
}

/**
 * Claims due queued messages (or ones whose sender died) for `owner`: first those holding a
 * rate-limit slot that has come (they must go on it, and a backlog of new messages due
 * earlier would keep them waiting past it), then the others, oldest first.
 */
export async function claimDueMessages(
  db: Queryable,
  owner: string,
  now: Date,
  limit: number,
  leaseMs: number,
): Promise<QueuedMessage[]> {
  const claim = (held: boolean, n: number) =>
    db.query<MessageRow>(
      `UPDATE messages m SET status = 'sending', lease_owner = $1,
         lease_until = $2::timestamptz + make_interval(secs => $4::double precision / 1000), updated_at = $2
       FROM (
         SELECT workspace_id, profile_id, message_id FROM messages
         WHERE status IN ('queued', 'sending') AND not_before <= $2 AND (lease_until IS NULL OR lease_until < $2)
           ${held ? 'AND rate_slot_at IS NOT NULL' : ''}
         ORDER BY not_before
         LIMIT $3
         FOR UPDATE SKIP LOCKED
       ) due
       WHERE m.workspace_id = due.workspace_id AND m.profile_id = due.profile_id AND m.message_id = due.message_id
       RETURNING m.*`,
      [owner, now.toISOString(), n, leaseMs],
    )
  const held = await claim(true, limit)
  const rows = held.length < limit ? [...held, ...(await claim(false, limit - held.length))] : held
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
      rateSlotAt: r.rate_slot_at,
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
  /** Why it has this status, in a sentence (the deciding guard, the channel's answer). */
  readonly reason?: string
  /** The guards' verdicts, when they were run for this status. */
  readonly verdicts?: readonly Verdict[]
  readonly providerId?: string
  /** The rate-limit slot it holds while back in the queue; any other update gives it up. */
  readonly rateSlotAt?: Date
}

/** Settles a claimed message; false when the lease was lost to another worker. */
export async function settleMessage(db: Queryable, m: QueuedMessage, u: MessageUpdate): Promise<boolean> {
  return (await settleMessages(db, [{ message: m, update: u }])).size > 0
}

/** The key settleMessages answers with: workspace, profile and message id. */
export const messageKey = (m: Pick<QueuedMessage, 'workspaceId' | 'profileId' | 'messageId'>) =>
  `${m.workspaceId}\u0000${m.profileId}\u0000${m.messageId}`

/**
 * Settles claimed messages in one statement; answers the messageKey of each one settled
 * (a message whose lease was lost to another worker is not).
 */
export async function settleMessages(
  db: Queryable,
  items: ReadonlyArray<{ readonly message: QueuedMessage; readonly update: MessageUpdate }>,
): Promise<Set<string>> {
  if (items.length === 0) return new Set()
  const settled = await db.query<{ workspace_id: string; profile_id: string; message_id: string }>(
    SETTLE_UPDATE('$1'),
    [settleRows(items)],
  )
  return new Set(
    settled.map((r) =>
      messageKey({ workspaceId: r.workspace_id, profileId: r.profile_id, messageId: r.message_id }),
    ),
  )
}

/** The JSON parameter of SETTLE_UPDATE. */
export function settleRows(
  items: ReadonlyArray<{ readonly message: QueuedMessage; readonly update: MessageUpdate }>,
): string {
  return JSON.stringify(
    items.map(({ message: m, update: u }) => ({
      w: m.workspaceId,
      p: m.profileId,
      id: m.messageId,
      lo: m.leaseOwner,
      st: u.status,
      at: u.at.toISOString(),
      er: u.error ?? null,
      nb: u.notBefore?.toISOString() ?? null,
      ca: u.countAttempt ? 1 : 0,
      pp: u.payloadPatch ?? {},
      re: u.reason ?? null,
      v: u.verdicts ?? null,
      pi: u.providerId ?? null,
      rs: u.rateSlotAt?.toISOString() ?? null,
    })),
  )
}

/**
 * Settles the messages of `param` (settleRows) whose lease is still the caller's, answering
 * the key of each one settled; usable as a WITH query. A delivery report may have moved the
 * message on while it was being sent: 'sent' never takes it back.
 */
export const SETTLE_UPDATE = (param: string) =>
  `UPDATE messages m SET
     status = CASE WHEN x.st = 'sent' AND m.status IN ('delivered', 'opened', 'clicked', 'bounced')
       THEN m.status ELSE x.st END,
     updated_at = x.at, last_error = x.er,
     not_before = coalesce(x.nb, m.not_before), attempts = m.attempts + x.ca,
     payload = m.payload || x.pp,
     sent_at = CASE WHEN x.st = 'sent' THEN x.at ELSE m.sent_at END,
     reason = coalesce(x.re, m.reason), verdicts = coalesce(x.v, m.verdicts),
     provider_id = coalesce(x.pi, m.provider_id), rate_slot_at = x.rs,
     lease_owner = NULL, lease_until = NULL
   FROM jsonb_to_recordset(${param}::jsonb) AS x(w text, p uuid, id text, lo text, st text, at timestamptz,
     er text, nb timestamptz, ca int, pp jsonb, re text, v jsonb, pi text, rs timestamptz)
   WHERE m.workspace_id = x.w AND m.profile_id = x.p AND m.message_id = x.id AND m.lease_owner = x.lo
   RETURNING m.workspace_id, m.profile_id, m.message_id`

/** What the guards decided a message is, kept on it so later decisions count it. */
export interface MessageDecision {
  readonly at: Date
  readonly category: string
  readonly topic: string | null
  readonly transactional: boolean
  readonly dedupeKey: string | null
  readonly verdicts: readonly Verdict[]
}

/**
 * Records the guards' classification of claimed messages in one statement (first decision
 * time kept); from then on each counts in its profile's history. Answers the messageKey of
 * each recorded: a message whose lease was lost is not.
 */
export async function recordDecisions(
  db: Queryable,
  items: ReadonlyArray<{ readonly message: QueuedMessage; readonly decision: MessageDecision }>,
): Promise<Set<string>> {
  if (items.length === 0) return new Set()
  const rows = await db.query<{ workspace_id: string; profile_id: string; message_id: string }>(
    `UPDATE messages m SET decided_at = coalesce(m.decided_at, x.at), category = x.c, topic = x.t,
       transactional = x.tr, dedupe_key = x.k, verdicts = x.v, updated_at = x.at
     FROM jsonb_to_recordset($1::jsonb)
       AS x(w text, p uuid, id text, lo text, at timestamptz, c text, t text, tr boolean, k text, v jsonb)
     WHERE m.workspace_id = x.w AND m.profile_id = x.p AND m.message_id = x.id AND m.lease_owner = x.lo
     RETURNING m.workspace_id, m.profile_id, m.message_id`,
    [
      JSON.stringify(
        items.map(({ message: m, decision: d }) => ({
          w: m.workspaceId,
          p: m.profileId,
          id: m.messageId,
          lo: m.leaseOwner,
          at: d.at.toISOString(),
          c: d.category,
          t: d.topic,
          tr: d.transactional,
          k: d.dedupeKey,
          v: d.verdicts,
        })),
      ),
    ],
  )
  return new Set(
    rows.map((r) =>
      messageKey({ workspaceId: r.workspace_id, profileId: r.profile_id, messageId: r.message_id }),
    ),
  )
}

export interface StoredMessage {
  readonly messageId: string
  readonly profileId: string
  readonly journeyId: string | null
  readonly channel: string
  readonly template: string
  readonly status: MessageStatus
  readonly reason: string | null
  readonly lastError: string | null
  readonly attempts: number
  readonly notBefore: Date
  readonly sentAt: Date | null
  readonly providerId: string | null
  readonly verdicts: readonly Verdict[]
}

/** One message's log entry (admin API, tests). */
export async function getMessage(
  db: Queryable,
  workspaceId: string,
  messageId: string,
): Promise<StoredMessage | undefined> {
  const rows = await db.query<{
    message_id: string
    profile_id: string
    journey_id: string | null
    channel: string
    template: string
    status: MessageStatus
    reason: string | null
    last_error: string | null
    attempts: number
    not_before: Date
    sent_at: Date | null
    provider_id: string | null
    verdicts: Verdict[] | null
  }>(
    `SELECT message_id, profile_id, journey_id, channel, template, status, reason, last_error, attempts,
            not_before, sent_at, provider_id, verdicts
     FROM messages WHERE workspace_id = $1 AND message_id = $2`,
    [workspaceId, messageId],
  )
  const r = rows[0]
  return (
    r && {
      messageId: r.message_id,
      profileId: r.profile_id,
      journeyId: r.journey_id,
      channel: r.channel,
      template: r.template,
      status: r.status,
      reason: r.reason,
      lastError: r.last_error,
      attempts: r.attempts,
      notBefore: r.not_before,
      sentAt: r.sent_at,
      providerId: r.provider_id,
      verdicts: r.verdicts ?? [],
    }
  )
}

/** Gives back this worker's claimed messages on shutdown, so another takes them at once. */
export async function releaseMessages(db: Queryable, owner: string): Promise<void> {
  await db.query(
    `UPDATE messages SET status = 'queued', lease_owner = NULL, lease_until = NULL
     WHERE status = 'sending' AND lease_owner = $1`,
    [owner],
  )
}

export async function nextMessageAt(db: Queryable): Promise<Date | null> {
  const rows = await db.query<{ not_before: Date }>(
    `SELECT not_before FROM messages WHERE status = 'queued' ORDER BY not_before LIMIT 1`,
  )
  return rows[0]?.not_before ?? null
}

export interface TestSend {
  readonly workspaceId: string
  readonly profileId: string
  readonly messageId: string
  readonly channel: string
  readonly template: string
  readonly at: Date
  readonly ok: boolean
  readonly reason: string
  readonly providerId?: string
  readonly error?: string
  /** The address it went to and the sample event, for whoever reads the log later. */
  readonly payload: Readonly<Record<string, unknown>>
}

/**
 * Logs a test send as already settled, in category `test`: no journey, never decided by the
 * guards (decided_at stays null, so frequency caps and dedupe never count it) and never queued.
 */
export async function logTestSend(db: Queryable, t: TestSend): Promise<void> {
  await db.query(
    `INSERT INTO messages (workspace_id, profile_id, message_id, channel, template, status, payload, not_before,
                           attempts, last_error, created_at, updated_at, sent_at, category, reason, provider_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9, $8, $8, $10, 'test', $11, $12)`,
    [
      t.workspaceId,
      t.profileId,
      t.messageId,
      t.channel,
      t.template,
      t.ok ? 'sent' : 'failed',
      JSON.stringify({ ...t.payload, test: true }),
      t.at.toISOString(),
      t.error ?? null,
      t.ok ? t.at.toISOString() : null,
      t.reason,
      t.providerId ?? null,
    ],
  )
}
