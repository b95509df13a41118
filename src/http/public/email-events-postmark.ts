// POST /email/events/postmark/:workspaceId: Postmark's webhooks (Bounce, Delivery,
// SpamComplaint) for the mail a workspace sent through Postmark's SMTP service. Postmark
// does not sign its webhooks: it calls a URL holding HTTP Basic credentials, checked here
// against the workspace's email config (postmark.webhookUser, postmark.webhookPassword).
// A mail is found by the Message-ID Nudge gave it, which it carries as Postmark metadata
// (nudge-message-id) and Postmark returns in every webhook.
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { NudgeError } from '../../domain/errors.ts'
import { sameSecret } from '../../domain/member-auth.ts'
import type { EmailReportVerdict } from '../../domain/messages/delivery-status.ts'
import { getChannelConfig } from '../../store/channel-configs.ts'
import type { PublicDeps } from './deps.ts'
import { type Json, obj, recordProviderEvent, str } from './provider-events.ts'

/** Bounce types that say the address does not take mail (Postmark deactivates it). */
const HARD = new Set(['HardBounce', 'BadEmailAddress', 'ManuallyDeactivated'])
/** Bounce types that failed this mail without saying anything of the address. */
const SOFT = new Set(['SoftBounce', 'DnsError', 'Blocked', 'DMARCPolicy', 'SpamNotification', 'SMTPApiError'])

const ENHANCED = /(?:^|[\s;(])([245]\.\d{1,3}\.\d{1,3})(?=[\s;),.]|$)/

/**
 * What a Postmark webhook means for the message; undefined for what Nudge does not act on
 * (opens and clicks, subscription changes, auto-replies and the other bounce types that
 * are not about delivery).
 */
export function postmarkVerdict(body: Json): EmailReportVerdict | undefined {
  const details = str(body['Details']) ?? str(body['Description'])
  const status = ENHANCED.exec(details ?? '')?.[1]
  const detail = (what: string) => `Postmark ${what}${details ? `: ${details}` : ''}`
  switch (str(body['RecordType'])) {
    case 'Delivery':
      return { kind: 'delivered', status, detail: detail('delivered') }
    case 'SpamComplaint':
      return { kind: 'complained', feedbackType: 'abuse', detail: 'complaint (Postmark)' }
    case 'Bounce': {
      const type = str(body['Type']) ?? ''
      if (type === 'SpamComplaint')
        return { kind: 'complained', feedbackType: 'abuse', detail: 'complaint (Postmark)' }
      if (type === 'Transient') return { kind: 'delayed', status, detail: detail('delayed (Transient)') }
      if (HARD.has(type))
        return { kind: 'bounced', bounce: 'hard', status, detail: detail(`bounced (${type})`) }
      if (SOFT.has(type))
        return { kind: 'bounced', bounce: 'soft', status, detail: detail(`bounced (${type})`) }
      return undefined
    }
    default:
      return undefined
  }
}

/** The user and password of an `Authorization: Basic` header. */
function basicCredentials(req: FastifyRequest): { user: string; password: string } | undefined {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(req.headers.authorization ?? '')
  if (!m?.[1]) return undefined
  const decoded = Buffer.from(m[1], 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  return colon < 0 ? undefined : { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) }
}

export function postmarkRoutes(app: FastifyInstance, deps: PublicDeps): void {
  app.post<{ Params: { workspaceId: string } }>('/email/events/postmark/:workspaceId', async (req, reply) => {
    const { workspaceId } = req.params
    const stored = obj(obj((await getChannelConfig(deps.db, workspaceId, 'email'))?.config)['postmark'])
    const user = str(stored['webhookUser'])
    const password = str(stored['webhookPassword'])
    const given = basicCredentials(req)
    if (
      !user ||
      !password ||
      !given ||
      !sameSecret(given.user, user) ||
      !sameSecret(given.password, password)
    ) {
      reply.header('www-authenticate', 'Basic realm="nudge-postmark"')
      throw new NudgeError(
        'NUDGE_ERR_UNAUTHORIZED',
        "Put the credentials saved in this workspace's email config (postmark.webhookUser and postmark.webhookPassword) in the webhook URL: https://<user>:<password>@…",
      )
    }
    const body = obj(req.body)
    const metadata = obj(body['Metadata'])
    const recordType = str(body['RecordType']) ?? 'event'
    // A bounce or a complaint has an id of its own (a 64-bit number, which JSON.parse may
    // round: with the message's id, the type and the time beside it, two rounded alike are
    // still two reports); a delivery is one per message.
    const reportId = [
      recordType,
      str(body['ID']),
      str(body['MessageID']),
      str(body['Type']),
      str(body['BouncedAt']) ?? str(body['DeliveredAt']),
    ]
      .filter(Boolean)
      .join(':')
    const outcome = await recordProviderEvent(deps, workspaceId, {
      source: 'postmark',
      verdict: postmarkVerdict(body),
      messageIdHeader: str(metadata['nudge-message-id']),
      reportId,
      recipient: str(body['Email']) ?? str(body['Recipient']),
    })
    return { ok: true, ...outcome }
  })
}
