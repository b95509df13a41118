// A mail that came back to a bounce address: a DSN (multipart/report;
// report-type=delivery-status) or a complaint (report-type=feedback-report). Its machine-
// readable part decides what happens to the message the signed handle names; anything
// else sent to a bounce address (an out-of-office reply, a human-readable-only bounce) is
// refused, so that nothing is accepted and then dropped.
import { createHash } from 'node:crypto'
import type { ParsedMail } from 'mailparser'
import {
  dsnVerdict,
  type EmailReportVerdict,
  feedbackVerdict,
  parseDeliveryStatus,
} from '../domain/messages/delivery-status.ts'
import { findBounceTarget } from '../store/bounce-handles.ts'
import type { Db } from '../store/db.ts'
import { applyEmailReport } from './email-reports.ts'

export type ReadReport =
  | {
      readonly ok: true
      readonly source: 'dsn' | 'arf'
      readonly verdict: EmailReportVerdict
      readonly part: string
    }
  | { readonly ok: false; readonly reason: string }

const DSN_PARTS = ['message/delivery-status', 'message/global-delivery-status']

/** The report in a mail parsed with `keepDeliveryStatus: true`, or why it is not one. */
export function readReport(mail: ParsedMail): ReadReport {
  const type = mail.headers.get('content-type') as
    | { value?: string; params?: Record<string, string> }
    | undefined
  const reportType =
    type?.value?.toLowerCase() === 'multipart/report'
      ? type.params?.['report-type']?.toLowerCase()
      : undefined
  const part = (types: readonly string[]) =>
    mail.attachments.find((a) => types.includes(a.contentType.toLowerCase()))?.content.toString('utf8')
  if (reportType === 'delivery-status' || reportType === 'global-delivery-status') {
    const text = part(DSN_PARTS)
    const verdict = text ? dsnVerdict(parseDeliveryStatus(text)) : undefined
    if (!text || !verdict)
      return {
        ok: false,
        reason: 'the delivery status report has no message/delivery-status part with an Action',
      }
    return { ok: true, source: 'dsn', verdict, part: text }
  }
  if (reportType === 'feedback-report') {
    const text = part(['message/feedback-report'])
    const verdict = text ? feedbackVerdict(text) : undefined
    if (!text || !verdict)
      return {
        ok: false,
        reason: 'the feedback report has no message/feedback-report part with a Feedback-Type',
      }
    return { ok: true, source: 'arf', verdict, part: text }
  }
  return {
    ok: false,
    reason:
      'only delivery status notifications and feedback reports (multipart/report) are accepted at bounce addresses',
  }
}

export type ReceiveReportResult =
  | {
      readonly ok: true
      readonly workspaceId: string
      readonly messageId: string
      readonly kind: EmailReportVerdict['kind']
      readonly recorded: boolean
      readonly changed: boolean
    }
  | { readonly ok: false; readonly reason: string }

/** The report for the message `handle` names; the handle is checked against its workspace's secret. */
export async function receiveReport(
  db: Db,
  handle: string,
  report: ReadReport,
  at: Date,
): Promise<ReceiveReportResult> {
  if (!report.ok) return report
  return db.transaction(async (tx) => {
    const target = await findBounceTarget(tx, handle)
    if (!target) return { ok: false, reason: 'not a bounce address Nudge handed out' } as const
    // The machine-readable part identifies the report: the same DSN relayed twice, even
    // under another Message-ID, is one report.
    const reportId = createHash('sha256')
      .update(`${report.source}\n${report.part.replace(/\r\n?/g, '\n').trim()}`)
      .digest('hex')
      .slice(0, 32)
    const applied = await applyEmailReport(tx, {
      workspaceId: target.workspaceId,
      match: { messageId: target.messageId, profileId: target.profileId },
      verdict: report.verdict,
      reportId,
      source: report.source,
      ...(target.addressHash ? { address: { hash: target.addressHash } } : {}),
      at,
    })
    if (!applied.ok)
      return { ok: false, reason: 'the message of this bounce address no longer exists' } as const
    return {
      ok: true,
      workspaceId: target.workspaceId,
      messageId: applied.messageId,
      kind: applied.kind,
      recorded: applied.recorded,
      changed: applied.changed,
    } as const
  })
}
