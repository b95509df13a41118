// Delivery reports a provider or a mail server sends after the hand-off (SMS status
// callbacks, DSNs, complaints, email provider events): the message, found by the provider's
// id or by its own id, moves forward only (sent -> delivered, sent/delivered -> bounced,
// never back from opened or clicked), and journeys get Message Delivered or Message Bounced
// once. A repeated report matches no row, so it records nothing.
import type { Queryable, Tx } from './db.ts'
import { emitProfileEvent } from './events.ts'
import { messageProperties } from './tracking.ts'

export type DeliveryReport =
  | { readonly kind: 'delivered' }
  | {
      readonly kind: 'bounced'
      readonly reason: string
      /** Hard: the address does not work (it is suppressed); soft: this mail did not go. */
      readonly bounce?: 'hard' | 'soft'
      /** The enhanced status code of a DSN or provider event, e.g. 5.1.1. */
      readonly status?: string
    }

/** Which message a report is about: the provider's id (Twilio SID, Message-ID) or Nudge's (with its profile: the primary key). */
export type ReportMatch =
  | { readonly providerId: string }
  | { readonly messageId: string; readonly profileId: string }

/** The WHERE condition and parameters of a match, numbered from `$n`. */
function matchSql(by: ReportMatch, n: number): { sql: string; params: string[] } {
  return 'providerId' in by
    ? { sql: `provider_id = $${n}`, params: [by.providerId] }
    : { sql: `profile_id = $${n}::uuid AND message_id = $${n + 1}`, params: [by.profileId, by.messageId] }
}

const FROM: Record<DeliveryReport['kind'], readonly string[]> = {
  delivered: ['sending', 'sent'],
  bounced: ['sending', 'sent', 'delivered'],
}
const EVENT: Record<DeliveryReport['kind'], string> = {
  delivered: 'Message Delivered',
  bounced: 'Message Bounced',
}

interface Row {
  message_id: string
  profile_id: string
  journey_id: string | null
  run_id: string | null
  step_id: string | null
  template: string
  provider_id: string | null
}

const eventProps = (r: Row, channel: string) => ({
  ...messageProperties({
    messageId: r.message_id,
    journeyId: r.journey_id,
    runId: r.run_id,
    stepId: r.step_id,
    template: r.template,
    channel,
  }),
  provider_id: r.provider_id,
})

/** The message id when this report changed a message of `channel`; undefined when it did not. */
export async function recordDeliveryReport(
  tx: Tx,
  workspaceId: string,
  channel: string,
  by: ReportMatch,
  report: DeliveryReport,
  at: Date,
): Promise<string | undefined> {
  const where = matchSql(by, 7)
  const rows = await tx.query<Row>(
    `UPDATE messages SET status = $3, updated_at = $4, reason = coalesce($5, reason)
     WHERE workspace_id = $1 AND ${where.sql} AND channel = $2 AND status = ANY($6::text[])
     RETURNING message_id, profile_id, journey_id, run_id, step_id, template, provider_id`,
    [
      workspaceId,
      channel,
      report.kind,
      at.toISOString(),
      report.kind === 'bounced' ? report.reason : null,
      FROM[report.kind],
      ...where.params,
    ],
  )
  const r = rows[0]
  if (!r) return undefined
  await emitProfileEvent(tx, {
    workspaceId,
    profileId: r.profile_id,
    // The same id as the dispatcher's own bounce event: one Message Bounced per message.
    messageId: `nudge:message:${r.message_id}:${report.kind}`,
    event: EVENT[report.kind],
    properties: {
      ...eventProps(r, channel),
      ...(report.kind === 'bounced'
        ? {
            reason: report.reason,
            ...(report.bounce ? { bounce: report.bounce } : {}),
            ...(report.status ? { status: report.status } : {}),
          }
        : {}),
    },
    at,
  })
  return r.message_id
}

/** A message as a report finds it: enough to record the report and emit its event. */
export interface ReportedMessage {
  readonly workspaceId: string
  readonly profileId: string
  readonly messageId: string
  readonly channel: string
}

export async function findReportedMessage(
  db: Queryable,
  workspaceId: string,
  channel: string,
  match: ReportMatch,
): Promise<ReportedMessage | undefined> {
  const where = matchSql(match, 3)
  const rows = await db.query<{ profile_id: string; message_id: string }>(
    `SELECT profile_id, message_id FROM messages
     WHERE workspace_id = $1 AND channel = $2 AND ${where.sql} LIMIT 1`,
    [workspaceId, channel, ...where.params],
  )
  const r = rows[0]
  return r ? { workspaceId, profileId: r.profile_id, messageId: r.message_id, channel } : undefined
}

export interface StoredReport {
  /** Unique per report: a report received twice has the same id. */
  readonly reportId: string
  /** dsn, arf, mailgun, … */
  readonly source: string
  /** delivered, bounced, delayed, complained, other */
  readonly kind: string
  readonly status: string | undefined
  readonly detail: string
  readonly at: Date
}

/** Keeps the report; false when this report was received before (then nothing else is done). */
export async function insertReportOnce(db: Queryable, m: ReportedMessage, r: StoredReport): Promise<boolean> {
  const rows = await db.query(
    `INSERT INTO delivery_reports (workspace_id, profile_id, report_id, message_id, channel, source, kind,
                                   status, detail, received_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING RETURNING 1`,
    [
      m.workspaceId,
      m.profileId,
      r.reportId,
      m.messageId,
      m.channel,
      r.source,
      r.kind,
      r.status ?? null,
      r.detail.slice(0, 2000),
      r.at.toISOString(),
    ],
  )
  return rows.length > 0
}

/** The reports received for a message, oldest first. */
export async function reportsOf(
  db: Queryable,
  workspaceId: string,
  messageId: string,
): Promise<(StoredReport & { readonly messageId: string })[]> {
  const rows = await db.query<{
    report_id: string
    message_id: string
    source: string
    kind: string
    status: string | null
    detail: string | null
    received_at: Date
  }>(
    `SELECT report_id, message_id, source, kind, status, detail, received_at FROM delivery_reports
     WHERE workspace_id = $1 AND message_id = $2 ORDER BY received_at, report_id`,
    [workspaceId, messageId],
  )
  return rows.map((r) => ({
    reportId: r.report_id,
    messageId: r.message_id,
    source: r.source,
    kind: r.kind,
    status: r.status ?? undefined,
    detail: r.detail ?? '',
    at: r.received_at,
  }))
}

/**
 * A complaint about a message (the member marked it as spam): `Message Complained` once per
 * message, whatever its status. True when the event was emitted by this call.
 */
export async function recordComplaint(
  tx: Tx,
  m: ReportedMessage,
  detail: string,
  at: Date,
): Promise<boolean> {
  const rows = await tx.query<Row>(
    `SELECT message_id, profile_id, journey_id, run_id, step_id, template, provider_id FROM messages
     WHERE workspace_id = $1 AND profile_id = $2 AND message_id = $3`,
    [m.workspaceId, m.profileId, m.messageId],
  )
  const r = rows[0]
  if (!r) return false
  return emitProfileEvent(tx, {
    workspaceId: m.workspaceId,
    profileId: r.profile_id,
    messageId: `nudge:message:${r.message_id}:complained`,
    event: 'Message Complained',
    properties: { ...eventProps(r, m.channel), reason: detail },
    at,
  })
}
