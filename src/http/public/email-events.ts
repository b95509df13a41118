// POST /email/events/mailgun/:workspaceId: Mailgun's webhooks for the mail a workspace sent
// through Mailgun. Authenticated by the signature Mailgun puts in the body (hex
// HMAC-SHA256 of timestamp + token, keyed with the workspace's webhook signing key); the
// message is found by the Message-ID Nudge gave the mail. Opens and clicks are left to
// Nudge's own pixel and links; an unknown message answers 200 so Mailgun stops retrying.
import { createHmac } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { NudgeError } from '../../domain/errors.ts'
import { sameSecret } from '../../domain/member-auth.ts'
import { bounceKindOf, type EmailReportVerdict } from '../../domain/messages/delivery-status.ts'
import { applyEmailReport } from '../../runtime/email-reports.ts'
import { getChannelConfig } from '../../store/channel-configs.ts'
import type { PublicDeps } from './deps.ts'

/** Mailgun's webhook signature: hex HMAC-SHA256 of timestamp then token. */
export function mailgunSignature(signingKey: string, timestamp: string, token: string): string {
  return createHmac('sha256', signingKey).update(`${timestamp}${token}`).digest('hex')
}

type Json = Record<string, unknown>
const obj = (v: unknown): Json => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {})
const str = (v: unknown): string | undefined =>
  typeof v === 'string' && v.length > 0 ? v : typeof v === 'number' ? String(v) : undefined

const STATUS = /^[245]\.\d{1,3}\.\d{1,3}$/

/** What a Mailgun event means for the message; undefined for events Nudge does not act on. */
export function mailgunVerdict(eventData: Json): EmailReportVerdict | undefined {
  const ds = obj(eventData['delivery-status'])
  const enhanced = str(ds['enhanced-code'])
  const status = enhanced && STATUS.test(enhanced) ? enhanced : undefined
  const text = [str(ds['code']), str(ds['message']) ?? str(ds['description'])].filter(Boolean).join(' ')
  const reason = str(eventData['reason'])
  const detail = (what: string) => `Mailgun ${what}${text ? `: ${text}` : ''}`
  switch (str(eventData['event'])) {
    case 'delivered':
      return { kind: 'delivered', status, detail: detail('delivered') }
    case 'failed': {
      if (str(eventData['severity']) !== 'permanent')
        return { kind: 'delayed', status, detail: detail(`temporary failure${reason ? ` (${reason})` : ''}`) }
      // suppress-bounce: Mailgun did not try, the address bounced before; bounce: the receiving
      // server refused it; the other reasons (a complaint or unsubscribe on Mailgun's lists, an
      // ESP block, too old) say nothing about the address.
      const bounce =
        reason === 'suppress-bounce'
          ? 'hard'
          : reason === undefined || reason === 'bounce'
            ? bounceKindOf(status, text)
            : 'soft'
      return { kind: 'bounced', bounce, status, detail: detail(`failed${reason ? ` (${reason})` : ''}`) }
    }
    case 'complained':
      return { kind: 'complained', feedbackType: 'abuse', detail: 'complaint (Mailgun)' }
    default:
      return undefined
  }
}

export function emailEventRoutes(app: FastifyInstance, deps: PublicDeps): void {
  const { db, clock } = deps
  app.post<{ Params: { workspaceId: string } }>('/email/events/mailgun/:workspaceId', async (req) => {
    const { workspaceId } = req.params
    const body = obj(req.body)
    const sig = obj(body['signature'])
    const timestamp = str(sig['timestamp'])
    const token = str(sig['token'])
    const given = str(sig['signature'])
    const stored = (await getChannelConfig(db, workspaceId, 'email'))?.config
    const key = str(obj(stored?.['mailgun'])['webhookSigningKey'])
    if (
      !timestamp ||
      !token ||
      !given ||
      !key ||
      !sameSecret(given, mailgunSignature(key, timestamp, token))
    ) {
      throw new NudgeError(
        'NUDGE_ERR_BAD_SIGNATURE',
        "Sign the webhook with Mailgun's HTTP webhook signing key, saved in this workspace's email config as mailgun.webhookSigningKey",
      )
    }
    const eventData = obj(body['event-data'])
    const verdict = mailgunVerdict(eventData)
    const header = str(obj(obj(eventData['message'])['headers'])['message-id'])
    if (!verdict || !header) return { ok: true, recorded: false }
    const providerId = header.startsWith('<') ? header : `<${header}>`
    const recipient = str(eventData['recipient'])
    const applied = await db.transaction((tx) =>
      applyEmailReport(tx, {
        workspaceId,
        match: { providerId },
        verdict,
        reportId: `mailgun:${str(eventData['id']) ?? `${timestamp}:${token}`}`,
        source: 'mailgun',
        ...(recipient ? { address: { value: recipient } } : {}),
        at: clock.now(),
      }),
    )
    if (!applied.ok) return { ok: true, recorded: false }
    return { ok: true, recorded: applied.changed, messageId: applied.messageId }
  })
}
