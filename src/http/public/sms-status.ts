// POST /sms/status/:workspaceId: Twilio's status callback for the SMS the dispatcher sent.
// Authenticated by X-Twilio-Signature (HMAC-SHA1 with the workspace's auth token over the
// public URL and the sorted form fields); an unknown SID answers 200 so Twilio stops
// retrying. queued / sending / sent reports change nothing.
import { createHmac } from 'node:crypto'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { isRecipientCode } from '../../channels/sms.ts'
import { NudgeError } from '../../domain/errors.ts'
import { sameSecret } from '../../domain/member-auth.ts'
import { getChannelConfig } from '../../store/channel-configs.ts'
import { type DeliveryReport, recordDeliveryReport } from '../../store/delivery-reports.ts'
import { recordChannelSuppression } from '../../store/suppressions.ts'
import { type FormBody, formOf, type PublicDeps } from './deps.ts'

/** Twilio's request signature: base64 HMAC-SHA1 of the URL then each name+value by name. */
export function twilioSignature(authToken: string, url: string, fields: FormBody): string {
  const data = Object.keys(fields)
    .sort()
    .reduce((acc, k) => acc + k + fields[k], url)
  return createHmac('sha1', authToken).update(data, 'utf8').digest('base64')
}

function reportOf(f: FormBody): DeliveryReport | undefined {
  const status = f.MessageStatus ?? f.SmsStatus
  if (status === 'delivered') return { kind: 'delivered' }
  if (status === 'undelivered' || status === 'failed')
    return { kind: 'bounced', reason: `Twilio ${f.ErrorCode || 'no error code'}: ${status}` }
  return undefined
}

function publicUrlOf(req: FastifyRequest, configured: string | undefined): string {
  const base = configured ?? `${req.protocol}://${req.headers.host ?? 'localhost'}`
  return `${base.replace(/\/$/, '')}${req.url}`
}

export function smsStatusRoutes(app: FastifyInstance, deps: PublicDeps): void {
  const { db, clock } = deps
  app.post<{ Params: { workspaceId: string } }>('/sms/status/:workspaceId', async (req) => {
    const { workspaceId } = req.params
    const fields = formOf(req.body)
    const given = req.headers['x-twilio-signature']
    const token = (await getChannelConfig(db, workspaceId, 'sms'))?.config.authToken
    if (
      typeof given !== 'string' ||
      typeof token !== 'string' ||
      !sameSecret(given, twilioSignature(token, publicUrlOf(req, deps.publicUrl), fields))
    ) {
      throw new NudgeError(
        'NUDGE_ERR_BAD_SIGNATURE',
        'Sign the callback with the auth token of this workspace sms config (X-Twilio-Signature), and set NUDGE_PUBLIC_URL to the URL Twilio calls',
      )
    }
    const report = reportOf(fields)
    const sid = fields.MessageSid ?? fields.SmsSid
    if (!report || !sid) return { ok: true, recorded: false }
    const now = clock.now()
    const messageId = await db.transaction(async (tx) => {
      const id = await recordDeliveryReport(tx, workspaceId, 'sms', { providerId: sid }, report, now)
      const code = Number(fields.ErrorCode)
      if (id && report.kind === 'bounced' && fields.To && isRecipientCode(code)) {
        await recordChannelSuppression(
          tx,
          workspaceId,
          { kind: 'phone', value: fields.To },
          'sms',
          'hard_bounce',
          now,
        )
      }
      return id
    })
    return { ok: true, recorded: messageId !== undefined, ...(messageId ? { messageId } : {}) }
  })
}
