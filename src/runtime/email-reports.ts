// One path for every email delivery report, whether a DSN or a complaint came back to a
// bounce address over SMTP or a provider posted an event: keep the report once, then move
// the message forward (delivered, bounced) or emit the complaint, and suppress the address
// after a hard bounce or a complaint. Run it in one transaction.
import type { EmailReportVerdict } from '../domain/messages/delivery-status.ts'
import type { Tx } from '../store/db.ts'
import {
  findReportedMessage,
  insertReportOnce,
  type ReportMatch,
  recordComplaint,
  recordDeliveryReport,
} from '../store/delivery-reports.ts'
import { recordChannelSuppression, recordChannelSuppressionHash } from '../store/suppressions.ts'

export interface EmailReportInput {
  readonly workspaceId: string
  readonly match: ReportMatch
  readonly verdict: EmailReportVerdict
  /** The same report received twice has the same id: the second time changes nothing. */
  readonly reportId: string
  readonly source: 'dsn' | 'arf' | 'mailgun' | 'postmark' | 'sendgrid'
  /** The address a hard bounce or a complaint suppresses: the hash kept with the bounce handle, or the provider's recipient. */
  readonly address?: { readonly hash: string } | { readonly value: string }
  readonly at: Date
}

export type EmailReportResult =
  | {
      readonly ok: true
      readonly messageId: string
      /** False when this very report was received before. */
      readonly recorded: boolean
      /** True when the message moved (delivered, bounced) or the complaint was emitted. */
      readonly changed: boolean
      readonly kind: EmailReportVerdict['kind']
    }
  | { readonly ok: false; readonly reason: 'unknown-message' }

export async function applyEmailReport(tx: Tx, r: EmailReportInput): Promise<EmailReportResult> {
  const m = await findReportedMessage(tx, r.workspaceId, 'email', r.match)
  if (!m) return { ok: false, reason: 'unknown-message' }
  const v = r.verdict
  const fresh = await insertReportOnce(tx, m, {
    reportId: r.reportId,
    source: r.source,
    kind: v.kind === 'bounced' ? `bounced_${v.bounce}` : v.kind,
    status: 'status' in v ? v.status : undefined,
    detail: v.detail,
    at: r.at,
  })
  const result = (changed: boolean) =>
    ({ ok: true, messageId: m.messageId, recorded: fresh, changed, kind: v.kind }) as const
  if (!fresh) return result(false)
  const by = { messageId: m.messageId, profileId: m.profileId }
  const suppress = async (reason: 'hard_bounce' | 'complaint') => {
    const a = r.address
    if (!a) return
    if ('hash' in a)
      await recordChannelSuppressionHash(tx, r.workspaceId, 'email', a.hash, 'email', reason, r.at)
    else
      await recordChannelSuppression(
        tx,
        r.workspaceId,
        { kind: 'email', value: a.value },
        'email',
        reason,
        r.at,
      )
  }
  switch (v.kind) {
    case 'delivered':
      return result(
        (await recordDeliveryReport(tx, r.workspaceId, 'email', by, { kind: 'delivered' }, r.at)) !==
          undefined,
      )
    case 'bounced': {
      const moved = await recordDeliveryReport(
        tx,
        r.workspaceId,
        'email',
        by,
        { kind: 'bounced', reason: v.detail, bounce: v.bounce, ...(v.status ? { status: v.status } : {}) },
        r.at,
      )
      if (moved !== undefined && v.bounce === 'hard') await suppress('hard_bounce')
      return result(moved !== undefined)
    }
    case 'complained': {
      const emitted = await recordComplaint(tx, m, v.detail, r.at)
      await suppress('complaint')
      return result(emitted)
    }
    case 'delayed':
    case 'other':
      return result(false)
    default: {
      const never: never = v
      return never
    }
  }
}
