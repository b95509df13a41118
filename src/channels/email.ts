// Email over SMTP with pooled connections (nodemailer), configured by one URL:
// smtp://user:pass@host:587 (STARTTLS when offered) or smtps://user:pass@host:465 (TLS).
// Without a URL the channel writes to the local mailbox instead, so nothing is lost offline.
import { createPublicKey } from 'node:crypto'
import nodemailer from 'nodemailer'
import { z } from 'zod'
import { validateWith } from './config.ts'
import { composeMail, DKIM_SIGNED_HEADERS, dkimSchema } from './email-compose.ts'
import { openMailbox } from './mailbox.ts'
import { classifySmtpError } from './smtp-errors.ts'
import type {
  ChannelDeps,
  ChannelModule,
  ChannelSender,
  OutgoingMessage,
  SendContext,
  SendResult,
} from './types.ts'
import { failure } from './types.ts'

const schema = z.object({
  /** Absent: the local mailbox under the data folder. */
  url: z
    .string()
    .regex(/^smtps?:\/\/[^/]+/, 'must look like smtp://user:pass@host:port or smtps://user:pass@host:port')
    .optional(),
  from: z.string().min(3).default('Nudge <nudge@localhost>'),
  replyTo: z.string().min(3).optional(),
  messageIdDomain: z.string().min(1).optional(),
  /**
   * Envelope sender bounce+<handle>@<inbound domain> (when NUDGE_INBOUND_DOMAIN is set), so
   * that bounces and complaints come back to Nudge. False for an SMTP service that needs the
   * envelope sender to be the From address (its webhook then reports bounces).
   */
  verp: z.boolean().default(true),
  /** Mailgun's HTTP webhook signing key: its delivery events are accepted at /email/events/mailgun/<workspace>. */
  mailgun: z
    .object({ webhookSigningKey: z.string().min(16, "must be Mailgun's HTTP webhook signing key") })
    .optional(),
  /**
   * Postmark's webhook credentials (HTTP Basic, in the webhook URL Postmark calls): its
   * delivery events are accepted at /email/events/postmark/<workspace>, and each mail
   * carries its Message-ID as Postmark metadata (X-PM-Metadata-nudge-message-id).
   */
  postmark: z
    .object({
      webhookUser: z.string().min(1, 'must be the user name of the webhook URL'),
      webhookPassword: z.string().min(16, 'must be at least 16 characters'),
    })
    .optional(),
  /** SendGrid's Signed Event Webhook verification key: its events are accepted at /email/events/sendgrid/<workspace>. */
  sendgrid: z
    .object({
      webhookPublicKey: z
        .string()
        .refine(
          isP256PublicKey,
          "must be the Signed Event Webhook's verification key (base64, as SendGrid shows it)",
        ),
    })
    .optional(),
  dkim: dkimSchema.optional(),
  pool: z
    .object({
      maxConnections: z.number().int().min(1).max(100).default(5),
      maxMessages: z.number().int().min(1).default(100),
      /** Messages per second for this server, unlimited when unset. */
      rateLimit: z.number().int().min(1).optional(),
    })
    .prefault({}),
  /** Connect, greeting and idle-socket timeout: a silent server ends as retryable. */
  timeoutMs: z.number().int().min(100).max(600_000).default(30_000),
})

export type EmailConfig = z.output<typeof schema>

/** SendGrid's verification key: an ECDSA P-256 public key, base64 DER (SubjectPublicKeyInfo), or PEM. */
export function sendgridPublicKey(key: string) {
  const pem = key.includes('-----BEGIN')
  return createPublicKey(
    pem ? key : { key: Buffer.from(key.replace(/\s+/g, ''), 'base64'), format: 'der', type: 'spki' },
  )
}

function isP256PublicKey(key: string): boolean {
  try {
    const k = sendgridPublicKey(key)
    return k.asymmetricKeyType === 'ec' && k.asymmetricKeyDetails?.namedCurve === 'prime256v1'
  } catch {
    return false
  }
}

/** Reads the process-wide default from the environment (NUDGE_SMTP_URL, NUDGE_EMAIL_FROM). */
export function emailConfigFromEnv(env: Record<string, string | undefined>): unknown {
  return {
    ...(env.NUDGE_SMTP_URL ? { url: env.NUDGE_SMTP_URL } : {}),
    ...(env.NUDGE_EMAIL_FROM ? { from: env.NUDGE_EMAIL_FROM } : {}),
  }
}

function openSmtp(config: EmailConfig & { url: string }, deps: ChannelDeps): ChannelSender {
  const transport = nodemailer.createTransport({
    url: config.url,
    pool: true,
    maxConnections: config.pool.maxConnections,
    maxMessages: config.pool.maxMessages,
    ...(config.pool.rateLimit ? { rateLimit: config.pool.rateLimit, rateDelta: 1000 } : {}),
    connectionTimeout: config.timeoutMs,
    greetingTimeout: config.timeoutMs,
    socketTimeout: config.timeoutMs,
    ...(config.dkim ? { dkim: { ...config.dkim, headerFieldNames: DKIM_SIGNED_HEADERS } } : {}),
  })
  // An idle pooled connection that drops emits 'error'; the next send reconnects and reports.
  transport.on('error', () => {})
  return {
    name: 'email',
    async send(message: OutgoingMessage, ctx: SendContext = {}): Promise<SendResult> {
      const composed = composeMail(message, config, deps.clock.now())
      if (!composed.ok) return composed.failure
      if (ctx.signal?.aborted) return failure('retryable', 'aborted before sending')
      try {
        const info = await transport.sendMail({
          ...composed.mail,
          ...(ctx.signal ? { signal: ctx.signal } : {}),
        })
        if (info.rejected.length > 0) {
          return failure('rejected', `recipient refused: ${String(info.rejected[0])}`, { bounce: 'hard' })
        }
        return { ok: true, providerId: composed.messageId, detail: info.response }
      } catch (err) {
        return classifySmtpError(err)
      }
    },
    async close() {
      transport.close()
    },
  }
}

export const emailChannel: ChannelModule<EmailConfig> = {
  name: 'email',
  validateConfig: (raw) => validateWith(schema, raw ?? {}),
  open(config, deps) {
    if (config.url) return openSmtp({ ...config, url: config.url }, deps)
    return openMailbox({
      dataDir: deps.dataDir,
      clock: deps.clock,
      from: config.from,
      replyTo: config.replyTo,
      messageIdDomain: config.messageIdDomain,
      dkim: config.dkim,
    })
  },
}
