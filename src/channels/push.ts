// Web Push with VAPID (RFC 8030, 8291, 8292) through `web-push`: the payload is encrypted
// for the browser's subscription keys and POSTed to the push service named by its endpoint.
// A 404/410 from the push service means the subscription is gone: `expired: true` tells the
// caller to delete it.
import { createHash } from 'node:crypto'
import webpush from 'web-push'
import { z } from 'zod'
import { validateWith } from './config.ts'
import type { ChannelModule, PushSubscription, SendResult } from './types.ts'
import { failure } from './types.ts'

const b64urlBytes = (s: string): number =>
  /^[A-Za-z0-9_-]+=*$/.test(s) ? Buffer.from(s, 'base64url').length : -1

const schema = z.object({
  /** Contact for the push service operators: mailto: or https: (RFC 8292). */
  vapidSubject: z.string().regex(/^(mailto:|https:\/\/)/, 'must be a mailto: or https:// URL'),
  vapidPublicKey: z
    .string()
    .refine((k) => b64urlBytes(k) === 65, 'must be a base64url P-256 public key (65 bytes)'),
  vapidPrivateKey: z
    .string()
    .refine((k) => b64urlBytes(k) === 32, 'must be a base64url P-256 private key (32 bytes)'),
  /** How long the push service keeps an undelivered notification. */
  ttlSeconds: z.number().int().min(0).max(2_419_200).default(86_400),
  urgency: z.enum(['very-low', 'low', 'normal', 'high']).default('normal'),
  timeoutMs: z.number().int().min(100).max(120_000).default(10_000),
})

export type PushConfig = z.output<typeof schema>

/** Why a subscription cannot be used, or undefined when it looks right. */
export function subscriptionProblem(sub: PushSubscription | undefined): string | undefined {
  if (!sub) return 'the profile has no push subscription'
  let url: URL
  try {
    url = new URL(sub.endpoint)
  } catch {
    return 'the subscription endpoint is not a URL'
  }
  if (url.protocol !== 'https:') return 'the subscription endpoint must be https'
  if (b64urlBytes(sub.keys?.p256dh ?? '') !== 65)
    return 'the subscription p256dh key is not a P-256 public key'
  if (b64urlBytes(sub.keys?.auth ?? '') !== 16) return 'the subscription auth secret is not 16 bytes'
  return undefined
}

// aes128gcm leaves 4096 - 86 bytes of record for the payload (RFC 8291 §4) minus padding.
const MAX_PAYLOAD = 3_993

export const pushChannel: ChannelModule<PushConfig> = {
  name: 'push',
  validateConfig: (raw) => validateWith(schema, raw),
  open(config, deps) {
    return {
      name: 'push',
      async send(message): Promise<SendResult> {
        const sub = message.to.pushSubscription
        const problem = subscriptionProblem(sub)
        if (problem || !sub) return failure('rejected', problem ?? 'no subscription')
        const payload = JSON.stringify({
          id: message.id,
          title: message.content.subject ?? '',
          body: message.content.text,
          ...(message.content.url ? { url: message.content.url } : {}),
          ...(message.data ? { data: message.data } : {}),
        })
        if (Buffer.byteLength(payload) > MAX_PAYLOAD) {
          return failure(
            'rejected',
            `the notification is ${Buffer.byteLength(payload)} bytes, over ${MAX_PAYLOAD}`,
          )
        }
        try {
          const res = await webpush.sendNotification(sub, payload, {
            vapidDetails: {
              subject: config.vapidSubject,
              publicKey: config.vapidPublicKey,
              privateKey: config.vapidPrivateKey,
            },
            TTL: config.ttlSeconds,
            urgency: config.urgency,
            // Same key, same topic: a push service holding an undelivered copy replaces it
            // rather than delivering the retry twice.
            topic: createHash('sha256').update(message.idempotencyKey).digest('base64url').slice(0, 32),
            contentEncoding: 'aes128gcm',
            timeout: config.timeoutMs,
            ...(deps.httpsAgent ? { agent: deps.httpsAgent } : {}),
          })
          const location = (res.headers as Record<string, string | undefined>).location
          return { ok: true, providerId: location ?? message.id, detail: `HTTP ${res.statusCode}` }
        } catch (err) {
          if (err instanceof webpush.WebPushError) {
            const status = err.statusCode
            const reason = `push service answered ${status}${err.body ? `: ${String(err.body).slice(0, 200)}` : ''}`
            if (status === 404 || status === 410)
              return failure('rejected', reason, { status, expired: true })
            if (status === 401 || status === 403) return failure('misconfigured', reason, { status })
            if (status === 429 || status >= 500) {
              const ra = Number((err.headers as Record<string, string | undefined>)['retry-after'])
              return failure('retryable', reason, { status, ...(ra > 0 ? { retryAfterMs: ra * 1000 } : {}) })
            }
            return failure('rejected', reason, { status })
          }
          return failure('retryable', `could not reach the push service: ${(err as Error).message}`)
        }
      },
      async close() {},
    }
  },
}

/** For `nudge` setup: a fresh VAPID key pair to put in the config. */
export function generateVapidKeys(): { publicKey: string; privateKey: string } {
  return webpush.generateVAPIDKeys()
}
