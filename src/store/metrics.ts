// Messaging metrics (docs/metrics.md): what became of the messages queued in a period, per
// journey and step, per template and channel. Each view is one set-based statement over the
// message log, read through an index on (workspace, journey | template, created_at) or (workspace, created_at).
// Every count is of messages, so each is unique per message.
import type { Queryable } from './db.ts'

export interface MessageCounts {
  /** Queued by a send step (or a test send) in the period, whatever became of them. */
  readonly messages: number
  /** Handed to their channel: accepted, or refused at once as a hard bounce. */
  readonly sent: number
  /** Accepted by their channel (no delivery report has said otherwise). */
  readonly delivered: number
  readonly bounced: number
  /** Opened by the member (a human click counts as an open). */
  readonly opened: number
  /** Opened only by a scanner, a prefetching proxy or a crawler: apart from `opened`. */
  readonly botOpened: number
  readonly clicked: number
  /** Clicked only by a scanner or a crawler: apart from `clicked`. */
  readonly botClicked: number
  /** Credited with their run's conversion (the journey's goal, within its window). */
  readonly converted: number
  /** Whose unsubscribe link the member used. */
  readonly unsubscribed: number
}

export interface Period {
  readonly since: Date
  readonly until: Date
}

export interface StepCounts extends MessageCounts {
  readonly stepId: string | null
  readonly channel: string
  readonly template: string
}

export interface ChannelCounts extends MessageCounts {
  readonly channel: string
}

const COUNT_COLUMNS = `count(*)::int AS messages,
  count(*) FILTER (WHERE sent_at IS NOT NULL OR status = 'bounced')::int AS sent,
  count(*) FILTER (WHERE sent_at IS NOT NULL)::int AS delivered,
  count(*) FILTER (WHERE status = 'bounced')::int AS bounced,
  count(*) FILTER (WHERE opened_at IS NOT NULL)::int AS opened,
  count(*) FILTER (WHERE opened_at IS NULL AND bot_open)::int AS bot_opened,
  count(*) FILTER (WHERE clicked_at IS NOT NULL)::int AS clicked,
  count(*) FILTER (WHERE clicked_at IS NULL AND bot_click)::int AS bot_clicked,
  count(*) FILTER (WHERE converted_at IS NOT NULL)::int AS converted,
  count(*) FILTER (WHERE unsubscribed_at IS NOT NULL)::int AS unsubscribed`

/**
 * The messages of the period matching `where` (on `m`), with their bot hits. The bot hits
 * are gathered once and hash-joined (a probe per message costs more on large periods); a
 * hit on a message queued at or after `since` happened at or after `since` too.
 */
const scope = (where: string) => `WITH b AS (
  SELECT profile_id, message_id, bool_or(kind = 'open') AS bot_open, bool_or(kind = 'click') AS bot_click
  FROM message_engagements
  WHERE workspace_id = $1 AND bot AND last_at >= $2
  GROUP BY profile_id, message_id
), m AS (
  SELECT m.step_id, m.channel, m.template, m.status, m.sent_at, m.opened_at, m.clicked_at,
    m.converted_at, m.unsubscribed_at, coalesce(b.bot_open, false) AS bot_open,
    coalesce(b.bot_click, false) AS bot_click
  FROM messages m LEFT JOIN b ON b.profile_id = m.profile_id AND b.message_id = m.message_id
  WHERE m.workspace_id = $1 AND ${where} AND m.created_at >= $2 AND m.created_at < $3
)`

interface CountRow {
  messages: number
  sent: number
  delivered: number
  bounced: number
  opened: number
  bot_opened: number
  clicked: number
  bot_clicked: number
  converted: number
  unsubscribed: number
}

const counts = (r: CountRow | undefined): MessageCounts => ({
  messages: r?.messages ?? 0,
  sent: r?.sent ?? 0,
  delivered: r?.delivered ?? 0,
  bounced: r?.bounced ?? 0,
  opened: r?.opened ?? 0,
  botOpened: r?.bot_opened ?? 0,
  clicked: r?.clicked ?? 0,
  botClicked: r?.bot_clicked ?? 0,
  converted: r?.converted ?? 0,
  unsubscribed: r?.unsubscribed ?? 0,
})

const range = (p: Period) => [p.since.toISOString(), p.until.toISOString()]

/** A journey's messages: totals and one row per step (and template and channel it used). */
export async function journeyMetrics(
  db: Queryable,
  workspaceId: string,
  journeyId: string,
  period: Period,
): Promise<{ totals: MessageCounts; steps: StepCounts[] }> {
  const rows = await db.query<
    CountRow & { total: number; step_id: string | null; channel: string; template: string }
  >(
    `${scope('m.journey_id = $4')}
     SELECT GROUPING(step_id, channel, template) AS total, step_id, channel, template, ${COUNT_COLUMNS}
     FROM m GROUP BY GROUPING SETS ((), (step_id, channel, template))
     ORDER BY total DESC, min(sent_at) NULLS LAST, step_id, channel, template`,
    [workspaceId, ...range(period), journeyId],
  )
  const totals = counts(rows.find((r) => r.total !== 0))
  const steps = rows
    .filter((r) => r.total === 0)
    .map((r) => ({ stepId: r.step_id, channel: r.channel, template: r.template, ...counts(r) }))
  return { totals, steps }
}

/** A template's messages, across journeys: totals and one row per channel. */
export async function templateMetrics(
  db: Queryable,
  workspaceId: string,
  template: string,
  period: Period,
): Promise<{ totals: MessageCounts; channels: ChannelCounts[] }> {
  const rows = await db.query<CountRow & { total: number; channel: string }>(
    `${scope('m.template = $4')}
     SELECT GROUPING(channel) AS total, channel, ${COUNT_COLUMNS}
     FROM m GROUP BY GROUPING SETS ((), (channel)) ORDER BY total DESC, channel`,
    [workspaceId, ...range(period), template],
  )
  return {
    totals: counts(rows.find((r) => r.total !== 0)),
    channels: rows.filter((r) => r.total === 0).map((r) => ({ channel: r.channel, ...counts(r) })),
  }
}

/** Every channel's messages, one row per channel that had any in the period. */
export async function channelMetrics(
  db: Queryable,
  workspaceId: string,
  period: Period,
): Promise<ChannelCounts[]> {
  const rows = await db.query<CountRow & { channel: string }>(
    `${scope('true')}
     SELECT channel, ${COUNT_COLUMNS} FROM m GROUP BY channel ORDER BY channel`,
    [workspaceId, ...range(period)],
  )
  return rows.map((r) => ({ channel: r.channel, ...counts(r) }))
}
