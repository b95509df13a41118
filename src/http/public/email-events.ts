// POST /email/events/<provider>/:workspaceId: the delivery events of the mail a workspace
// sent through Mailgun, Postmark or SendGrid, each authenticated its provider's way (see
// each route). The message is found by the Message-ID Nudge gave the mail. Opens and clicks
// are left to Nudge's own pixel and links; an unknown message answers 200 so the provider
// stops retrying.
import { createHmac } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { NudgeError } from '../../domain/errors.ts'
import { sameSecret } from '../../domain/member-auth.ts'
import {
  bounceKindOf,
  type EmailReportVerdict,
  enhancedStatus,
} from '../../domain/messages/delivery-status.ts'
import { getChannelConfig } from '../../store/channel-configs.ts'
import type { PublicDeps } from './deps.ts'
import { postmarkRoutes } from './email-events-postmark.ts'
import { sendgridRoutes } from './email-events-sendgrid.ts'
import { type Json, obj, recordProviderEvent, str } from './provider-events.ts'

/** Mailgun's webhook signature: hex HMAC-SHA256 of timestamp then token. */
export function mailgunSignature(signingKey: string, timestamp: string, token: string): string {
  return createHmac('sha256', signingKey).update(`${timestamp}${token}`).digest('hex')
}

/** What a Mailgun event means for the message; undefined for events Nudge does not act on. */
export function mailgunVerdict(eventData: Json): EmailReportVerdict | undefined {
  const ds = obj(eventData['delivery-status'])
  const status = enhancedStatus(str(ds['enhanced-code']))
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
  const { db } = deps
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
    const outcome = await recordProviderEvent(deps, workspaceId, {
      source: 'mailgun',
      verdict: mailgunVerdict(eventData),
      messageIdHeader: str(obj(obj(eventData['message'])['headers'])['message-id']),
      reportId: str(eventData['id']) ?? `${timestamp}:${token}`,
      recipient: str(eventData['recipient']),
    })
    return { ok: true, ...outcome }
  })
  postmarkRoutes(app, deps)
  sendgridRoutes(app, deps)
}
