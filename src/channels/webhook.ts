// Webhook: a signed JSON POST to a URL the workspace owns, or a Slack / Discord incoming
// webhook (their own payload shapes, no signature: those services do not check one).
// Retries are the dispatcher's job; this reports what one attempt meant.
import { z } from 'zod'
import { SIGNATURE_HEADER, signWebhook } from '../domain/messages/signature.ts'
import { isTimeout, validateWith, withTimeout } from './config.ts'
import { interpretResponse } from './http-response.ts'
import type { ChannelModule, OutgoingMessage, SendResult } from './types.ts'
import { failure } from './types.ts'

export const WEBHOOK_PRESETS = ['generic', 'slack', 'discord'] as const

const schema = z
  .object({
    url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }),
    preset: z.enum(WEBHOOK_PRESETS).default('generic'),
    /** HMAC key for Nudge-Signature; required for generic receivers, which must verify it. */
    secret: z.string().min(16, 'must be at least 16 characters').optional(),
    timeoutMs: z.number().int().min(100).max(120_000).default(10_000),
    headers: z.record(z.string(), z.string()).optional(),
  })
  .superRefine((c, ctx) => {
    if (c.preset === 'generic' && !c.secret) {
      ctx.addIssue({ code: 'custom', path: ['secret'], message: 'a generic webhook needs a signing secret' })
    }
  })

export type WebhookConfig = z.output<typeof schema>

/** The JSON a generic receiver gets. Stable: receivers are written against it. */
export function genericPayload(message: OutgoingMessage, now: Date): Record<string, unknown> {
  const { pushSubscription: _omit, ...recipient } = message.to
  return {
    id: message.id,
    type: 'message',
    idempotencyKey: message.idempotencyKey,
    createdAt: now.toISOString(),
    category: message.category,
    workspaceId: message.meta.workspaceId,
    profileId: message.meta.profileId,
    journeyId: message.meta.journeyId ?? null,
    runId: message.meta.runId ?? null,
    stepId: message.meta.stepId ?? null,
    template: message.meta.template ?? null,
    recipient,
    content: message.content,
    data: message.data ?? {},
  }
}

function presetPayload(preset: WebhookConfig['preset'], message: OutgoingMessage, now: Date): unknown {
  const { subject, text } = message.content
  switch (preset) {
    case 'generic':
      return genericPayload(message, now)
    case 'slack':
      // Slack mrkdwn: the subject in bold above the text.
      return { text: subject ? `*${subject}*\n${text}` : text }
    case 'discord': {
      // Discord refuses content over 2000 characters.
      const content = subject ? `**${subject}**\n${text}` : text
      return { content: content.length > 2000 ? `${content.slice(0, 1999)}…` : content }
    }
    default: {
      const never: never = preset
      throw new Error(`unknown preset ${String(never)}`)
    }
  }
}

export const webhookChannel: ChannelModule<WebhookConfig> = {
  name: 'webhook',
  validateConfig: (raw) => validateWith(schema, raw),
  open(config, deps) {
    const doFetch = deps.fetch ?? fetch
    return {
      name: 'webhook',
      async send(message, ctx = {}): Promise<SendResult> {
        const now = deps.clock.now()
        const body = JSON.stringify(presetPayload(config.preset, message, now))
        const headers: Record<string, string> = {
          ...config.headers,
          'content-type': 'application/json',
          'user-agent': 'Nudge-Webhook/1',
          'idempotency-key': message.idempotencyKey,
          'nudge-message-id': message.id,
        }
        if (config.secret)
          headers[SIGNATURE_HEADER.toLowerCase()] = signWebhook(
            config.secret,
            body,
            Math.floor(now.getTime() / 1000),
          )
        let res: Response
        try {
          res = await doFetch(config.url, {
            method: 'POST',
            headers,
            body,
            // A redirect would carry a signed payload somewhere nobody configured.
            redirect: 'manual',
            signal: withTimeout(config.timeoutMs, ctx.signal),
          })
        } catch (err) {
          if (isTimeout(err)) return failure('retryable', `no answer within ${config.timeoutMs} ms`)
          if (ctx.signal?.aborted) return failure('retryable', 'aborted')
          const cause = (err as Error & { cause?: { code?: string; message?: string } }).cause
          return failure(
            'retryable',
            `could not reach the webhook: ${cause?.code ?? cause?.message ?? String(err)}`,
          )
        }
        return interpretResponse(res, deps.clock.now(), message.id)
      },
      async close() {},
    }
  },
}
