// What the email providers' webhooks share: reading their JSON, and applying one event to
// the message it is about (the same path as a DSN or a complaint that came back over SMTP).
import type { EmailReportVerdict } from '../../domain/messages/delivery-status.ts'
import { applyEmailReport } from '../../runtime/email-reports.ts'
import type { PublicDeps } from './deps.ts'

export type Json = Record<string, unknown>
export const obj = (v: unknown): Json => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {})
export const str = (v: unknown): string | undefined =>
  typeof v === 'string' && v.length > 0 ? v : typeof v === 'number' ? String(v) : undefined

export interface ProviderEvent {
  readonly source: 'mailgun' | 'postmark' | 'sendgrid'
  /** Undefined: an event Nudge does not act on. */
  readonly verdict: EmailReportVerdict | undefined
  /** The mail's Message-ID, with or without its angle brackets. */
  readonly messageIdHeader: string | undefined
  /** The provider's id of the event: the same event received again changes nothing. */
  readonly reportId: string
  /** The address the provider reports about (suppressed after a hard bounce or a complaint). */
  readonly recipient: string | undefined
}

/** Applies a provider's event to the message it is about; recorded: false when it changed nothing. */
export async function recordProviderEvent(
  deps: PublicDeps,
  workspaceId: string,
  e: ProviderEvent,
): Promise<{ recorded: boolean; messageId?: string }> {
  if (!e.verdict || !e.messageIdHeader) return { recorded: false }
  const providerId = e.messageIdHeader.startsWith('<') ? e.messageIdHeader : `<${e.messageIdHeader}>`
  const verdict = e.verdict
  const applied = await deps.db.transaction((tx) =>
    applyEmailReport(tx, {
      workspaceId,
      match: { providerId },
      verdict,
      reportId: `${e.source}:${e.reportId}`,
      source: e.source,
      ...(e.recipient ? { address: { value: e.recipient } } : {}),
      at: deps.clock.now(),
    }),
  )
  if (!applied.ok) return { recorded: false }
  return { recorded: applied.changed, messageId: applied.messageId }
}
