// POST /email/events/sendgrid/:workspaceId: SendGrid's Event Webhook for the mail a
// workspace sent through SendGrid's SMTP relay. Authenticated by SendGrid's Signed Event
// Webhook: an ECDSA P-256 signature (X-Twilio-Email-Event-Webhook-Signature, base64) of
// the timestamp header followed by the raw body, checked with the verification key saved
// in the workspace's email config (sendgrid.webhookPublicKey). A post holds a batch of
// events; each is found by its smtp-id, the Message-ID Nudge gave the mail.
import { verify } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { sendgridPublicKey } from '../../channels/email.ts'
import { NudgeError } from '../../domain/errors.ts'
import {
  bounceKindOf,
  type EmailReportVerdict,
  enhancedStatus,
} from '../../domain/messages/delivery-status.ts'
import { getChannelConfig } from '../../store/channel-configs.ts'
import type { PublicDeps } from './deps.ts'
import { type Json, obj, recordProviderEvent, str } from './provider-events.ts'

const SIGNATURE = 'x-twilio-email-event-webhook-signature'
const TIMESTAMP = 'x-twilio-email-event-webhook-timestamp'
/** SendGrid batches its events into posts larger than the API's usual limit (hundreds of KB). */
const SENDGRID_BODY_LIMIT = 4 * 1024 * 1024

/** SendGrid's signature check: ECDSA with SHA-256 over timestamp + raw body, DER signature in base64. */
export function sendgridSignatureValid(
  publicKey: string,
  timestamp: string,
  body: Buffer,
  signature: string,
) {
  try {
    return verify(
      'sha256',
      Buffer.concat([Buffer.from(timestamp, 'utf8'), body]),
      { key: sendgridPublicKey(publicKey), dsaEncoding: 'der' },
      Buffer.from(signature, 'base64'),
    )
  } catch {
    return false
  }
}

/**
 * What a SendGrid event means for the message; undefined for what Nudge does not act on
 * (processed, opens and clicks, unsubscribes, which Nudge's own pages handle).
 */
export function sendgridVerdict(e: Json): EmailReportVerdict | undefined {
  const status = enhancedStatus(str(e['status']))
  const text = str(e['reason']) ?? str(e['response'])
  const detail = (what: string) => `SendGrid ${what}${text ? `: ${text}` : ''}`
  switch (str(e['event'])) {
    case 'delivered':
      return { kind: 'delivered', status, detail: detail('delivered') }
    case 'deferred':
      return { kind: 'delayed', status, detail: detail('deferred') }
    case 'bounce': {
      // blocked: the receiving server refused the mail for its content or its sender, not
      // for the address.
      if (str(e['type']) === 'blocked')
        return { kind: 'bounced', bounce: 'soft', status, detail: detail('blocked') }
      return { kind: 'bounced', bounce: bounceKindOf(status, text), status, detail: detail('bounced') }
    }
    case 'dropped': {
      // SendGrid did not try: the address bounced before or is not an address; the other
      // reasons (its own unsubscribe and spam-report lists, the content) say nothing of it.
      const reason = str(e['reason']) ?? ''
      const hard = reason === 'Bounced Address' || reason === 'Invalid'
      return { kind: 'bounced', bounce: hard ? 'hard' : 'soft', status, detail: detail('dropped') }
    }
    case 'spamreport':
      return { kind: 'complained', feedbackType: 'abuse', detail: 'complaint (SendGrid)' }
    default:
      return undefined
  }
}

export function sendgridRoutes(app: FastifyInstance, deps: PublicDeps): void {
  // The signature covers the body as sent: this route reads it raw and parses it itself.
  app.register(async (scope) => {
    scope.removeContentTypeParser('application/json')
    scope.addContentTypeParser(
      'application/json',
      { parseAs: 'buffer', bodyLimit: SENDGRID_BODY_LIMIT },
      (_req, body, done) => done(null, body),
    )
    scope.post<{ Params: { workspaceId: string } }>(
      '/email/events/sendgrid/:workspaceId',
      { bodyLimit: SENDGRID_BODY_LIMIT },
      async (req) => {
        const { workspaceId } = req.params
        const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0)
        const stored = obj(obj((await getChannelConfig(deps.db, workspaceId, 'email'))?.config)['sendgrid'])
        const key = str(stored['webhookPublicKey'])
        const signature = req.headers[SIGNATURE]
        const timestamp = req.headers[TIMESTAMP]
        if (
          !key ||
          typeof signature !== 'string' ||
          typeof timestamp !== 'string' ||
          !sendgridSignatureValid(key, timestamp, raw, signature)
        ) {
          throw new NudgeError(
            'NUDGE_ERR_BAD_SIGNATURE',
            "Turn on SendGrid's Signed Event Webhook and save its verification key in this workspace's email config as sendgrid.webhookPublicKey",
          )
        }
        let events: unknown
        try {
          events = JSON.parse(raw.toString('utf8'))
        } catch {
          throw new NudgeError(
            'NUDGE_ERR_INVALID_JSON',
            'The body is not valid JSON: SendGrid posts an array of events',
          )
        }
        if (!Array.isArray(events))
          throw new NudgeError(
            'NUDGE_ERR_VALIDATION',
            'SendGrid posts an array of events; the body is not an array',
          )
        const results: Array<{ recorded: boolean; messageId?: string }> = []
        for (const item of events) {
          const e = obj(item)
          const id = str(e['sg_event_id'])
          results.push(
            id
              ? await recordProviderEvent(deps, workspaceId, {
                  source: 'sendgrid',
                  verdict: sendgridVerdict(e),
                  messageIdHeader: str(e['smtp-id']),
                  reportId: id,
                  recipient: str(e['email']),
                })
              : { recorded: false },
          )
        }
        return { ok: true, recorded: results.filter((r) => r.recorded).length, events: results }
      },
    )
  })
}
