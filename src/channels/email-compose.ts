// Turns an OutgoingMessage into nodemailer mail options. SMTP and the local mailbox share
// it, so a mail in the mailbox is byte for byte what SMTP would have carried.
import { createHash } from 'node:crypto'
import type { SendMailOptions } from 'nodemailer'
import { z } from 'zod'
import type { OutgoingMessage, SendFailure } from './types.ts'
import { failure } from './types.ts'

/** DKIM signing key; List-Unsubscribe-Post is signed too, as RFC 8058 requires. */
export const dkimSchema = z.object({
  domainName: z.string().min(1),
  keySelector: z.string().min(1),
  privateKey: z.string().includes('PRIVATE KEY', { message: 'must be a PEM private key' }),
})
export type DkimConfig = z.infer<typeof dkimSchema>

export const DKIM_SIGNED_HEADERS =
  'From:Sender:Reply-To:Subject:Date:Message-ID:To:Cc:MIME-Version:Content-Type:' +
  'Content-Transfer-Encoding:In-Reply-To:References:List-Id:List-Unsubscribe:List-Unsubscribe-Post'

// Deliberately loose: the SMTP server is the judge of deliverability; this only catches
// values that cannot be an address at all, before a connection is spent on them.
const EMAIL = /^[^\s@<>()[\]\\,;:"]+@[^\s@<>()[\]\\,;:"]+\.[^\s@<>()[\]\\,;:"]+$/

export function isEmailAddress(value: string): boolean {
  return value.length <= 254 && EMAIL.test(value)
}

/** The domain of an address in `Name <user@host>` or `user@host` form. */
export function domainOf(address: string): string | undefined {
  const m = /@([^\s>]+)>?\s*$/.exec(address)
  return m?.[1]
}

/**
 * The same idempotency key always gives the same Message-ID, so a retried send is
 * recognisable as the same mail by receivers, the message log and reply threading.
 */
export function messageIdFor(idempotencyKey: string, domain: string): string {
  const h = createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 32)
  return `<${h}@${domain}>`
}

export interface ComposeDefaults {
  readonly from: string
  readonly replyTo?: string | undefined
  /** Domain of generated Message-IDs; the From domain when unset. */
  readonly messageIdDomain?: string | undefined
  /** False: the envelope sender stays the From address even when the message has a bounce address. */
  readonly verp?: boolean | undefined
  /** Set: the mail carries its Message-ID as Postmark metadata, which Postmark's webhooks return. */
  readonly postmark?: object | undefined
}

/** Postmark keeps metadata values of at most 80 characters. */
const POSTMARK_METADATA_MAX = 80

export function composeMail(
  message: OutgoingMessage,
  defaults: ComposeDefaults,
  now: Date,
): { ok: true; mail: SendMailOptions; messageId: string } | { ok: false; failure: SendFailure } {
  const address = message.to.email
  if (!address) return { ok: false, failure: failure('rejected', 'the profile has no email address') }
  if (!isEmailAddress(address)) {
    return { ok: false, failure: failure('rejected', `not an email address: ${JSON.stringify(address)}`) }
  }
  const from = message.email?.from ?? defaults.from
  const domain = defaults.messageIdDomain ?? domainOf(from) ?? 'nudge.invalid'
  const messageId = messageIdFor(message.idempotencyKey, domain)

  const headers: Record<string, string> = {
    'X-Nudge-Message-Id': message.id,
    ...message.email?.headers,
  }
  // Postmark's webhooks return a mail's metadata, not its Message-ID header (SMTP: headers
  // named X-PM-Metadata-<key>, which Postmark removes before delivery).
  const bare = messageId.slice(1, -1)
  if (defaults.postmark && bare.length <= POSTMARK_METADATA_MAX)
    headers['X-PM-Metadata-nudge-message-id'] = bare
  let list: SendMailOptions['list']
  if (message.category === 'marketing') {
    const https = message.email?.unsubscribeUrl
    const mailto = message.email?.unsubscribeMailto
    if (!https?.startsWith('https://') && !https?.startsWith('http://')) {
      // Without it the mail would break RFC 8058 and the mailbox providers' bulk sender rules.
      return {
        ok: false,
        failure: failure(
          'misconfigured',
          'marketing mail needs an HTTPS unsubscribe link (set the public URL)',
        ),
      }
    }
    // One header holding both: RFC 2369 lists are comma separated, and receivers read the first.
    list = { unsubscribe: [mailto ? [https, mailto] : [https]] }
    headers['List-Unsubscribe-Post'] = 'List-Unsubscribe=One-Click'
  }

  const replyTo = message.email?.replyTo ?? defaults.replyTo
  // VERP: bounces and complaints come back to an address that names this message.
  const bounceAddress = defaults.verp === false ? undefined : message.email?.bounceAddress
  const mail: SendMailOptions = {
    from,
    to: message.to.name ? { name: message.to.name, address } : address,
    subject: message.content.subject ?? '',
    text: message.content.text,
    messageId,
    date: now,
    headers,
    // Rendered content must never make nodemailer read a file or fetch a URL.
    disableFileAccess: true,
    disableUrlAccess: true,
    ...(message.content.html === undefined ? {} : { html: message.content.html }),
    ...(replyTo ? { replyTo } : {}),
    ...(list ? { list } : {}),
    ...(bounceAddress ? { envelope: { from: bounceAddress, to: [address] } } : {}),
  }
  return { ok: true, mail, messageId }
}
