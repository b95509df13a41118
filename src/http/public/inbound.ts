// POST /v1/inbound/email: replies relayed by a provider's inbound-parse webhook, for when
// the embedded SMTP listener is not used. Accepts Nudge's JSON shape, and the form fields
// SendGrid Inbound Parse and Mailgun routes post as they are (see docs/public-pages.md).
// Authenticated by the workspace's inbound secret (Bearer, Basic password, or ?key=).
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { simpleParser } from 'mailparser'
import { NudgeError } from '../../domain/errors.ts'
import { sameSecret } from '../../domain/member-auth.ts'
import { receiveReply } from '../../runtime/receive-reply.ts'
import { workspaceInboundSecret } from '../../store/workspace-secrets.ts'
import { bearer } from '../auth.ts'
import type { PublicDeps } from './deps.ts'

type Fields = Record<string, unknown>

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() ? v : undefined)

/** Every address in a header-like value: "Ann <a@x>, b@y" or a JSON list. */
function addresses(v: unknown): string[] {
  if (Array.isArray(v)) return v.flatMap(addresses)
  const s = str(v)
  if (!s) return []
  return [...s.matchAll(/[^\s<>,;"]+@[^\s<>,;"]+/g)].map((m) => m[0])
}

function secretOf(req: FastifyRequest): string | undefined {
  const b = bearer(req.headers.authorization)
  if (b) return b
  const auth = req.headers.authorization
  if (auth?.startsWith('Basic ')) {
    const decoded = Buffer.from(auth.slice(6), 'base64').toString('utf8')
    return decoded.slice(decoded.indexOf(':') + 1)
  }
  return str((req.query as Fields).key)
}

/** The mail in a provider's fields: Nudge JSON, SendGrid, or Mailgun names. */
async function mailOf(f: Fields) {
  // SendGrid "send raw" posts the whole MIME message as `email`; Nudge JSON may as `raw`.
  const raw = str(f.raw) ?? str(f.email)
  const parsed = raw ? await simpleParser(raw) : undefined
  let envelopeTo: unknown
  try {
    envelopeTo = typeof f.envelope === 'string' ? (JSON.parse(f.envelope) as { to?: unknown }).to : undefined
  } catch {
    envelopeTo = undefined
  }
  const parsedTo = parsed
    ? [parsed.to, parsed.cc].flatMap((a) => (Array.isArray(a) ? a : a ? [a] : [])).map((a) => a.text)
    : []
  return {
    recipients: [
      ...addresses(f.recipient),
      ...addresses(envelopeTo),
      ...addresses(f.to),
      ...addresses(f.cc),
      ...addresses(parsedTo),
    ],
    from: addresses(f.from ?? f.sender)[0] ?? parsed?.from?.value[0]?.address ?? null,
    subject: str(f.subject) ?? parsed?.subject ?? null,
    text: str(f.text) ?? str(f['body-plain']) ?? parsed?.text ?? null,
    html: str(f.html) ?? str(f['body-html']) ?? (typeof parsed?.html === 'string' ? parsed.html : null),
    messageId: str(f.messageId) ?? str(f['Message-Id']) ?? parsed?.messageId ?? null,
  }
}

export function inboundRoutes(app: FastifyInstance, deps: PublicDeps): void {
  const { db, clock } = deps
  app.post('/v1/inbound/email', { bodyLimit: 10 * 1024 * 1024 }, async (req) => {
    const workspaceId = str((req.query as Fields).workspace) ?? 'default'
    const given = secretOf(req)
    const expected = await workspaceInboundSecret(db, workspaceId)
    if (!given || !expected || !sameSecret(given, expected)) {
      throw new NudgeError(
        'NUDGE_ERR_UNAUTHORIZED',
        'Send the workspace inbound secret (Bearer, Basic password or ?key=)',
      )
    }
    const body = req.body
    if (!body || typeof body !== 'object' || Buffer.isBuffer(body)) {
      throw new NudgeError(
        'NUDGE_ERR_VALIDATION',
        'Send the reply as JSON or form fields (to, from, subject, text, html)',
      )
    }
    const mail = await mailOf(body as Fields)
    if (mail.recipients.length === 0) {
      throw new NudgeError('NUDGE_ERR_VALIDATION', 'The reply names no recipient', [
        { path: 'to', message: 'required' },
      ])
    }
    const r = await receiveReply(db, mail, { source: 'webhook', at: clock.now(), workspaceId })
    if (!r.ok)
      throw new NudgeError('NUDGE_ERR_NOT_FOUND', 'No recipient is a reply address of this workspace')
    return {
      ok: true,
      duplicate: r.duplicate,
      replyId: r.replyId,
      messageId: r.messageId,
      profileId: r.profileId,
    }
  })
}
