// Opens and clicks: each hit is recorded (aggregated per message, kind, URL and bot flag),
// the message log moves sent/delivered -> opened -> clicked on the first human hit, and
// the first human open and first human click per URL re-enter the events log as
// `Message Opened` / `Message Clicked`. Conversions and unsubscribes are credited to a
// message here too. Run each call in one transaction.
import { createHash } from 'node:crypto'
import type { HitVerdict } from '../domain/messages/bots.ts'
import type { Queryable } from './db.ts'
import { emitProfileEvents } from './profile-events.ts'

export interface TrackedMessage {
  readonly workspaceId: string
  readonly profileId: string
  readonly messageId: string
  readonly journeyId: string | null
  readonly runId: string | null
  readonly stepId: string | null
  readonly channel: string
  readonly template: string
  readonly status: string
  /** When it was handed to its channel, or its last update while that is not known yet. */
  readonly sentAt: Date | null
  readonly openedAt: Date | null
  readonly clickedAt: Date | null
  /** The workspace's `settings.tracking.prefetchWindowSeconds`, when set. */
  readonly prefetchWindowMs: number | undefined
}

export async function findTrackedMessage(
  db: Queryable,
  workspaceId: string,
  messageId: string,
): Promise<TrackedMessage | undefined> {
  const rows = await db.query<{
    profile_id: string
    journey_id: string | null
    run_id: string | null
    step_id: string | null
    channel: string
    template: string
    status: string
    sent_at: Date | null
    opened_at: Date | null
    clicked_at: Date | null
    window_s: number | null
  }>(
    `SELECT m.profile_id, m.journey_id, m.run_id, m.step_id, m.channel, m.template, m.status,
       coalesce(m.sent_at, CASE WHEN m.status = 'sending' THEN m.updated_at END) AS sent_at,
       m.opened_at, m.clicked_at,
       (w.settings -> 'tracking' ->> 'prefetchWindowSeconds')::double precision AS window_s
     FROM messages m JOIN workspaces w ON w.id = m.workspace_id
     WHERE m.workspace_id = $1 AND m.message_id = $2`,
    [workspaceId, messageId],
  )
  const r = rows[0]
  if (!r) return undefined
  return {
    workspaceId,
    profileId: r.profile_id,
    messageId,
    journeyId: r.journey_id,
    runId: r.run_id,
    stepId: r.step_id,
    channel: r.channel,
    template: r.template,
    status: r.status,
    sentAt: r.sent_at,
    openedAt: r.opened_at,
    clickedAt: r.clicked_at,
    prefetchWindowMs: r.window_s === null || !Number.isFinite(r.window_s) ? undefined : r.window_s * 1000,
  }
}

/** What journeys read in `event.properties` of Message Opened / Clicked / Replied. */
export function messageProperties(
  m: Pick<TrackedMessage, 'messageId' | 'journeyId' | 'runId' | 'stepId' | 'template' | 'channel'>,
): Record<string, unknown> {
  return {
    message_id: m.messageId,
    journey_id: m.journeyId,
    run_id: m.runId,
    step_id: m.stepId,
    template: m.template,
    channel: m.channel,
  }
}

async function recordHit(
  db: Queryable,
  m: TrackedMessage,
  kind: 'open' | 'click',
  url: string,
  verdict: HitVerdict,
  userAgent: string | undefined,
  at: Date,
): Promise<number> {
  const rows = await db.query<{ count: number }>(
    `INSERT INTO message_engagements AS e (workspace_id, profile_id, message_id, kind, url, bot, bot_reason, user_agent, first_at, last_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)
     ON CONFLICT (workspace_id, profile_id, message_id, kind, url, bot)
     DO UPDATE SET count = e.count + 1, last_at = greatest(e.last_at, EXCLUDED.last_at)
     RETURNING count`,
    [
      m.workspaceId,
      m.profileId,
      m.messageId,
      kind,
      url,
      verdict.bot,
      verdict.bot ? verdict.reason : null,
      userAgent?.slice(0, 512) ?? null,
      at.toISOString(),
    ],
  )
  return rows[0]?.count ?? 0
}

export interface HitResult {
  /** The hit was the member's first (open) or first on this URL (click): an event was emitted. */
  readonly firstHuman: boolean
}

/** Records an open (pixel, or an in-app message marked read). */
export async function recordOpen(
  db: Queryable,
  m: TrackedMessage,
  hit: { verdict: HitVerdict; userAgent: string | undefined; at: Date; source: string },
): Promise<HitResult> {
  await recordHit(db, m, 'open', '', hit.verdict, hit.userAgent, hit.at)
  if (hit.verdict.bot) return { firstHuman: false }
  const updated = await db.query(
    `UPDATE messages SET opened_at = $4,
       status = CASE WHEN status IN ('sent', 'delivered') THEN 'opened' ELSE status END
     WHERE workspace_id = $1 AND profile_id = $2 AND message_id = $3 AND opened_at IS NULL
     RETURNING 1`,
    [m.workspaceId, m.profileId, m.messageId, hit.at.toISOString()],
  )
  if (updated.length === 0) return { firstHuman: false }
  await emitProfileEvents(db, [
    {
      workspaceId: m.workspaceId,
      profileId: m.profileId,
      messageId: `nudge:opened:${m.messageId}`,
      name: 'Message Opened',
      properties: messageProperties(m),
      at: hit.at,
      source: hit.source,
    },
  ])
  return { firstHuman: true }
}

const urlKey = (url: string) => createHash('sha256').update(url).digest('hex').slice(0, 16)

/**
 * Records a click. A human click on a message never seen opened (images blocked) also
 * counts as its open, with `inferred: true` on the Message Opened event.
 */
export async function recordClick(
  db: Queryable,
  m: TrackedMessage,
  hit: { url: string; verdict: HitVerdict; userAgent: string | undefined; at: Date },
): Promise<HitResult> {
  const count = await recordHit(db, m, 'click', hit.url, hit.verdict, hit.userAgent, hit.at)
  if (hit.verdict.bot) return { firstHuman: false }
  const key = [m.workspaceId, m.profileId, m.messageId]
  const before = await db.query<{ opened_at: Date | null }>(
    'SELECT opened_at FROM messages WHERE workspace_id = $1 AND profile_id = $2 AND message_id = $3 FOR UPDATE',
    key,
  )
  await db.query(
    `UPDATE messages SET clicked_at = coalesce(clicked_at, $4), opened_at = coalesce(opened_at, $4),
       status = CASE WHEN status IN ('sent', 'delivered', 'opened') THEN 'clicked' ELSE status END
     WHERE workspace_id = $1 AND profile_id = $2 AND message_id = $3`,
    [...key, hit.at.toISOString()],
  )
  const props = messageProperties(m)
  const base = { workspaceId: m.workspaceId, profileId: m.profileId, at: hit.at, source: 'click' }
  const events = []
  if (before[0] && before[0].opened_at === null) {
    events.push({
      ...base,
      messageId: `nudge:opened:${m.messageId}`,
      name: 'Message Opened',
      properties: { ...props, inferred: true },
    })
  }
  if (count === 1) {
    events.push({
      ...base,
      messageId: `nudge:clicked:${m.messageId}:${urlKey(hit.url)}`,
      name: 'Message Clicked',
      properties: { ...props, url: hit.url },
    })
  }
  await emitProfileEvents(db, events)
  return { firstHuman: count === 1 }
}

/**
 * Credits a run's conversion to the last of its messages that reached its channel (a
 * message held back or failed was never seen, so it converts no one). Once per run. The
 * status is left as it is (opened, clicked...): the credit is a fact beside it, like opened_at.
 */
export async function creditConversion(
  db: Queryable,
  workspaceId: string,
  profileId: string,
  runId: string,
  at: Date,
): Promise<void> {
  await db.query(
    `UPDATE messages SET converted_at = $4
     WHERE workspace_id = $1 AND profile_id = $2 AND message_id = (
       SELECT message_id FROM messages
       WHERE workspace_id = $1 AND profile_id = $2 AND run_id = $3 AND sent_at IS NOT NULL
       ORDER BY sent_at DESC, created_at DESC, message_id DESC LIMIT 1)
       AND NOT EXISTS (SELECT 1 FROM messages
         WHERE workspace_id = $1 AND profile_id = $2 AND run_id = $3 AND converted_at IS NOT NULL)`,
    [workspaceId, profileId, runId, at.toISOString()],
  )
}

/** Credits an unsubscribe to the message whose link it came from (the first time only). */
export async function creditUnsubscribe(db: Queryable, m: TrackedMessage, at: Date): Promise<void> {
  await db.query(
    `UPDATE messages SET unsubscribed_at = $4
     WHERE workspace_id = $1 AND profile_id = $2 AND message_id = $3 AND unsubscribed_at IS NULL`,
    [m.workspaceId, m.profileId, m.messageId, at.toISOString()],
  )
}
