// Delivery reports a provider sends after the hand-off (SMS status callbacks): the message
// found by the provider's id moves forward only (sent -> delivered, sent/delivered ->
// bounced, never back from opened or clicked), and journeys get Message Delivered or
// Message Bounced once. A repeated report matches no row, so it records nothing.
import type { Tx } from './db.ts'
import { emitProfileEvent } from './events.ts'
import { messageProperties } from './tracking.ts'

export type DeliveryReport =
  | { readonly kind: 'delivered' }
  | { readonly kind: 'bounced'; readonly reason: string }

const FROM: Record<DeliveryReport['kind'], readonly string[]> = {
  delivered: ['sending', 'sent'],
  bounced: ['sending', 'sent', 'delivered'],
}
const EVENT: Record<DeliveryReport['kind'], string> = {
  delivered: 'Message Delivered',
  bounced: 'Message Bounced',
}

/** The message id when this report changed a message of `channel`; undefined when it did not. */
export async function recordDeliveryReport(
  tx: Tx,
  workspaceId: string,
  channel: string,
  providerId: string,
  report: DeliveryReport,
  at: Date,
): Promise<string | undefined> {
  const rows = await tx.query<{
    message_id: string
    profile_id: string
    journey_id: string | null
    run_id: string | null
    step_id: string | null
    template: string
  }>(
    `UPDATE messages SET status = $4, updated_at = $5, reason = coalesce($6, reason)
     WHERE workspace_id = $1 AND provider_id = $2 AND channel = $3 AND status = ANY($7::text[])
     RETURNING message_id, profile_id, journey_id, run_id, step_id, template`,
    [
      workspaceId,
      providerId,
      channel,
      report.kind,
      at.toISOString(),
      report.kind === 'bounced' ? report.reason : null,
      FROM[report.kind],
    ],
  )
  const r = rows[0]
  if (!r) return undefined
  const m = {
    messageId: r.message_id,
    journeyId: r.journey_id,
    runId: r.run_id,
    stepId: r.step_id,
    template: r.template,
    channel,
  }
  await emitProfileEvent(tx, {
    workspaceId,
    profileId: r.profile_id,
    // The same id as the dispatcher's own bounce event: one Message Bounced per message.
    messageId: `nudge:message:${r.message_id}:${report.kind}`,
    event: EVENT[report.kind],
    properties: {
      ...messageProperties(m),
      provider_id: providerId,
      ...(report.kind === 'bounced' ? { reason: report.reason } : {}),
    },
    at,
  })
  return r.message_id
}
