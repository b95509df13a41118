// SMS through the Twilio REST API (or any service speaking it: the base URL is configurable).
// POST /2010-04-01/Accounts/{sid}/Messages.json, form-encoded, HTTP Basic with SID and token.
// Delivery reports come back to `statusCallbackUrl`, correlated by the SID returned here.
import { z } from 'zod'
import { isTimeout, validateWith, withTimeout } from './config.ts'
import { interpretResponse } from './http-response.ts'
import type { ChannelModule, SendResult } from './types.ts'
import { failure } from './types.ts'

const E164 = /^\+[1-9]\d{1,14}$/

/** Strips spaces, dots, dashes and brackets people type; what is left must be E.164. */
export function normalisePhone(raw: string): string | undefined {
  const compact = raw.replace(/[\s().-]/g, '')
  return E164.test(compact) ? compact : undefined
}

const schema = z
  .object({
    baseUrl: z.url({ protocol: /^https?$/ }).default('https://api.twilio.com'),
    accountSid: z.string().regex(/^AC[0-9a-fA-F]{32}$/, 'must be a Twilio account SID (AC + 32 hex digits)'),
    authToken: z.string().min(8),
    /** A sender number in E.164 form; or a messaging service SID instead. */
    from: z.string().regex(E164, 'must be an E.164 number such as +33612345678').optional(),
    messagingServiceSid: z
      .string()
      .regex(/^MG[0-9a-fA-F]{32}$/)
      .optional(),
    statusCallbackUrl: z.url({ protocol: /^https?$/ }).optional(),
    timeoutMs: z.number().int().min(100).max(120_000).default(15_000),
  })
  .refine((c) => c.from || c.messagingServiceSid, {
    message: 'set from or messagingServiceSid',
    path: ['from'],
  })

export type SmsConfig = z.output<typeof schema>

// Twilio error codes that say the recipient cannot get SMS, and ones that say our setup is wrong.
// https://www.twilio.com/docs/api/errors
const RECIPIENT_CODES = new Set([21211, 21214, 21217, 21219, 21408, 21610, 21612, 21614, 30003, 30005, 30006])
/** A delivery report's error code that says this number cannot get SMS (suppress it). */
export const isRecipientCode = (code: number): boolean => RECIPIENT_CODES.has(code)
const SETUP_CODES = new Set([20003, 20404, 21212, 21606, 21608, 21659])

export const smsChannel: ChannelModule<SmsConfig> = {
  name: 'sms',
  validateConfig: (raw) => validateWith(schema, raw),
  open(config, deps) {
    const doFetch = deps.fetch ?? fetch
    const endpoint = `${config.baseUrl.replace(/\/$/, '')}/2010-04-01/Accounts/${config.accountSid}/Messages.json`
    const auth = `Basic ${Buffer.from(`${config.accountSid}:${config.authToken}`).toString('base64')}`
    return {
      name: 'sms',
      async send(message, ctx = {}): Promise<SendResult> {
        const raw = message.to.phone
        if (!raw) return failure('rejected', 'the profile has no phone number')
        const to = normalisePhone(raw)
        if (!to) return failure('rejected', `not an E.164 phone number: ${JSON.stringify(raw)}`)
        const body = message.content.text.trim()
        if (!body) return failure('rejected', 'the SMS text is empty')

        const form = new URLSearchParams({ To: to, Body: body })
        if (config.messagingServiceSid) form.set('MessagingServiceSid', config.messagingServiceSid)
        else if (config.from) form.set('From', config.from)
        if (config.statusCallbackUrl) form.set('StatusCallback', config.statusCallbackUrl)

        let res: Response
        try {
          res = await doFetch(endpoint, {
            method: 'POST',
            headers: {
              authorization: auth,
              'content-type': 'application/x-www-form-urlencoded',
              accept: 'application/json',
            },
            body: form.toString(),
            redirect: 'manual',
            signal: withTimeout(config.timeoutMs, ctx.signal),
          })
        } catch (err) {
          if (isTimeout(err))
            return failure('retryable', `no answer from the SMS API within ${config.timeoutMs} ms`)
          const cause = (err as Error & { cause?: { code?: string } }).cause
          return failure('retryable', `could not reach the SMS API: ${cause?.code ?? String(err)}`)
        }
        if (res.status >= 200 && res.status < 300) {
          const json = (await res.json().catch(() => ({}))) as { sid?: string; status?: string }
          if (!json.sid) return failure('retryable', 'the SMS API answered without a message SID')
          return { ok: true, providerId: json.sid, detail: json.status ?? 'queued' }
        }
        if (res.status === 400 || res.status === 404) {
          const json = (await res
            .clone()
            .json()
            .catch(() => ({}))) as { code?: number; message?: string }
          const reason = `Twilio ${json.code ?? res.status}: ${json.message ?? 'request refused'}`
          if (json.code && SETUP_CODES.has(json.code))
            return failure('misconfigured', reason, { status: res.status })
          if (json.code && RECIPIENT_CODES.has(json.code))
            return failure('rejected', reason, { status: res.status })
          if (res.status === 404) return failure('misconfigured', reason, { status: res.status })
        }
        return interpretResponse(res, deps.clock.now(), '')
      },
      async close() {},
    }
  },
}
