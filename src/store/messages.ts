// Messages: the outbox written by journeys in their own transaction, drained by the
// dispatcher, and the log of each message's fate. message_id is the effect's
// idempotency key: queueing the same message twice is a no-op.
import type { ChannelRate } from '../domain/guards/policy.ts'
import { burstTolerance, emissionInterval } from '../domain/guards/rate-limit.ts'
import type { Verdict } from '../domain/guards/types.ts'
import type { Queryable } from './db.ts'
import { jsonRows } from './json-rows.ts'

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

/** A channel's rate limit as a claim applies it: no more is claimed than it lets go soon. */
export interface ClaimLimit extends ChannelRate {
  readonly workspaceId: string
  readonly channel: string
}

export interface ClaimOptions {
  /** The known limits; a channel without one is claimed up to `limit`. */
  readonly limits?: readonly ClaimLimit[]
  /** A limited channel's messages are claimed only as far as its slots come within this (ms). */
  readonly maxWaitMs?: number
  /** Reading the limits' state failed: the claim was made as if there were none (told why). */
  readonly onLimitsFailed?: (err: unknown) => void
}

/** The JSON of the limits for the claim and nextMessageAt statements: interval and tolerance in ms. */
function limitsParam(limits: readonly ClaimLimit[] | undefined): string {
  return JSON.stringify(
    (limits ?? []).map((l) => ({
      w: l.workspaceId,
      c: l.channel,
      iv: emissionInterval(l),
      tol: burstTolerance(l),
    })),
  )
}

/**
 * The channels with queued messages (a skip scan of messages_due_by_channel, one descent
 * each), and how many new messages each may have claimed now: all (`$3`) without a limit;
 * with one, those whose rate-limit slot would come within `$6` ms, from the channel's
 * theoretical arrival time (the GCRA of rate-limits.ts: the k-th new slot is
 * max(now, max(tat, now) + k·interval − tolerance)). `p` names the statement's parameters.
 */
const channelBudgets = (
  p: { limit: string; limits: string; wait: string; nowMs: string },
  limited: boolean,
) => `
  pairs AS (
    (SELECT workspace_id, channel FROM messages WHERE status IN ('queued', 'sending')
     ORDER BY workspace_id, channel LIMIT 1)
    UNION ALL
    SELECT n.workspace_id, n.channel FROM pairs p CROSS JOIN LATERAL (
      SELECT workspace_id, channel FROM messages
      WHERE status IN ('queued', 'sending') AND (workspace_id, channel) > (p.workspace_id, p.channel)
      ORDER BY workspace_id, channel LIMIT 1
    ) n
  ),
  ${
    // Without a known limit, nothing else is read (not even the rate-limit table).
    limited
      ? `lim AS (
    SELECT * FROM jsonb_to_recordset(${p.limits}::jsonb) AS l(w text, c text, iv double precision, tol double precision)
  ),
  budget AS (
    SELECT p.workspace_id, p.channel,
      -- When the channel's first new slot comes within the wait (see nextMessageAt).
      CASE WHEN l.w IS NOT NULL AND r.tat IS NOT NULL
        THEN to_timestamp(ceil(r.tat - l.tol - ${p.wait}::double precision) / 1000) END AS ready,
      CASE WHEN l.w IS NULL THEN ${p.limit}::int
        ELSE least(${p.limit}::int, greatest(0, floor(
          (${p.nowMs}::double precision + ${p.wait}::double precision + l.tol
            - greatest(coalesce(r.tat, 0), ${p.nowMs}::double precision)) / l.iv
        ) + 1))::int
      END AS n
    FROM pairs p
    LEFT JOIN lim l ON l.w = p.workspace_id AND l.c = p.channel
    LEFT JOIN channel_rate_limits r ON r.workspace_id = p.workspace_id AND r.channel = p.channel
  )`
      : `budget AS (
    SELECT p.workspace_id, p.channel, NULL::timestamptz AS ready, ${p.limit}::int AS n
    FROM pairs p
  )`
  }`

/**
 * Claims due queued messages (or ones whose sender died) for `owner`: first those holding a
 * rate-limit slot that has come (they must go on it, and a backlog of new messages due
 * earlier would keep them waiting past it), then the others, oldest first, each channel
 * through its own part of the outbox and, on a rate-limited channel (`opts.limits`), no
 * more than its slots let go within `opts.maxWaitMs`: a backlog there waits in the queue,
 * untouched, instead of being claimed only to be put back. Runs its statements on their own
 * (not inside a longer transaction: see the candidates below).
 */
export async function claimDueMessages(
  db: Queryable,
  owner: string,
  now: Date,
  limit: number,
  leaseMs: number,
  opts: ClaimOptions = {},
): Promise<QueuedMessage[]> {
  const set = `UPDATE messages m SET status = 'sending', lease_owner = $1,
         lease_until = $2::timestamptz + make_interval(secs => $4::double precision / 1000), updated_at = $2`
  // Due at `$2` and not leased to a live sender.
  const due = (x: string) =>
    `${x}status IN ('queued', 'sending') AND ${x}not_before <= $2 AND (${x}lease_until IS NULL OR ${x}lease_until < $2)`
  const claimHeld = (n: number) =>
    db.query<MessageRow>(
      `${set}
       FROM (
         SELECT ctid AS tid FROM messages
         WHERE ${due('')} AND rate_slot_at IS NOT NULL
         ORDER BY not_before
         LIMIT $3
         FOR UPDATE SKIP LOCKED
       ) due
       WHERE m.ctid = due.tid
       RETURNING m.*`,
      [owner, now.toISOString(), n, leaseMs],
    )
  // Candidates first, locked after: each channel's budget is read without locking, and only
  // the `$3` oldest of them are locked (SKIP LOCKED, their state checked again). Rows are
  // found again by their physical address (ctid, a TID scan each): joined as sets or looked
  // up by key, the planner, without statistics of the queue, read a channel's whole backlog
  // at every claim. A row locked keeps its address until the statement has updated it. A
  // candidate another transaction changed and committed since the statement's snapshot is
  // not claimed: if it is no longer due, the lock's recheck drops it; if it still is, it is
  // locked at its new address, which the update (reading the snapshot) does not see, and it
  // waits for the next claim. Such a row stays locked to the end of the claim's transaction:
  // run claims on their own (autocommit), as the dispatcher does.
  const claimByChannel = (n: number, limited: boolean) =>
    db.query<MessageRow>(
      `WITH RECURSIVE ${channelBudgets({ limit: '$3', limits: '$5', wait: '$6', nowMs: '$7' }, limited)},
       candidates AS (
         SELECT d.tid FROM budget b CROSS JOIN LATERAL (
           SELECT x.ctid AS tid, x.not_before FROM messages x
           WHERE x.workspace_id = b.workspace_id AND x.channel = b.channel AND ${due('x.')}
           ORDER BY x.not_before
           LIMIT b.n
         ) d
         WHERE b.n > 0
         ORDER BY d.not_before
         LIMIT $3
       ),
       due AS (
         SELECT l.tid FROM candidates c
         CROSS JOIN LATERAL (
           SELECT x.ctid AS tid FROM messages x
           WHERE x.ctid = c.tid AND ${due('x.')}
           FOR UPDATE SKIP LOCKED
         ) l
       )
       ${set}
       FROM due
       WHERE m.ctid = due.tid
       RETURNING m.*`,
      limited
        ? [owner, now.toISOString(), n, leaseMs, limitsParam(opts.limits), opts.maxWaitMs ?? 0, now.getTime()]
        : [owner, now.toISOString(), n, leaseMs],
    )
  const byChannel = async (n: number): Promise<MessageRow[]> => {
    if (!opts.limits?.length) return claimByChannel(n, false)
    try {
      return await claimByChannel(n, true)
    } catch (err) {
      // The held messages claimed above stay claimed: only this part is made again.
      opts.onLimitsFailed?.(err)
      return claimByChannel(n, false)
    }
  }
  const held = await claimHeld(limit)
  const rows = held.length < limit ? [...held, ...(await byChannel(limit - held.length))] : held
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
   FROM ${jsonRows(param, 'w text, p uuid, id text, lo text, st text, at timestamptz, er text, nb timestamptz, ca int, pp jsonb, re text, v jsonb, pi text, rs timestamptz')}
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
     FROM ${jsonRows('$1', 'w text, p uuid, id text, lo text, at timestamptz, c text, t text, tr boolean, k text, v jsonb')}
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

/**
 * When a claim may next find something: the earliest held slot, or the earliest time a
 * channel has a queued message due and, when limited, a slot within `opts.maxWaitMs`
 * (the claim's own budget), so that a dispatcher facing a backlog it may not send yet
 * sleeps until the channel frees up instead of trying again at once.
 */
export async function nextMessageAt(db: Queryable, now: Date, opts: ClaimOptions = {}): Promise<Date | null> {
  const limited = (opts.limits?.length ?? 0) > 0
  const rows = await db.query<{ at: Date | null }>(
    `WITH RECURSIVE ${channelBudgets({ limit: '$1', limits: '$2', wait: '$3', nowMs: '$4' }, limited)}
     SELECT least(
       (SELECT min(not_before) FROM messages WHERE status = 'queued' AND rate_slot_at IS NOT NULL),
       (SELECT min(greatest(f.nb, b.ready))
        FROM budget b CROSS JOIN LATERAL (
          SELECT x.not_before AS nb FROM messages x
          WHERE x.workspace_id = b.workspace_id AND x.channel = b.channel AND x.status = 'queued'
          ORDER BY x.not_before LIMIT 1
        ) f)
     ) AS at`,
    limited ? [1, limitsParam(opts.limits), opts.maxWaitMs ?? 0, now.getTime()] : [1],
  )
  return rows[0]?.at ?? null
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

/** The most messages queuedAhead counts before one: past it, the answer is "at least" that. */
export const AHEAD_MAX = 10_000

/**
 * For each queued message, how many other messages of its workspace's channel are queued
 * and due at or before it (at most AHEAD_MAX): what a dispatcher takes before it, or with it,
 * on a rate-limited channel (it takes a channel's due messages by due time). Answers by `key`.
 */
export async function queuedAhead(
  db: Queryable,
  workspaceId: string,
  messages: ReadonlyArray<{
    key: string
    profileId: string
    messageId: string
    channel: string
    notBefore: Date
  }>,
): Promise<Map<string, number>> {
  if (messages.length === 0) return new Map()
  const rows = await db.query<{ k: string; n: number }>(
    `SELECT x.k, (SELECT count(*)::int FROM (
         SELECT 1 FROM messages m
         WHERE m.workspace_id = $1 AND m.channel = x.c AND m.status = 'queued' AND m.not_before <= x.nb
           AND NOT (m.profile_id = x.p AND m.message_id = x.id)
         LIMIT $3) AS a) AS n
     FROM jsonb_to_recordset($2::jsonb) AS x(k text, p uuid, id text, c text, nb timestamptz)`,
    [
      workspaceId,
      JSON.stringify(
        messages.map((m) => ({ k: m.key, p: m.profileId, id: m.messageId, c: m.channel, nb: m.notBefore })),
      ),
      AHEAD_MAX,
    ],
  )
  return new Map(rows.map((r) => [r.k, r.n]))
}
