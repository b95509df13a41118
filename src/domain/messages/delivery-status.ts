// What an email delivery report says, read from the machine-readable part of a
// multipart/report: a DSN's message/delivery-status (RFC 3464) or a complaint's
// message/feedback-report (ARF, RFC 5965). Pure: the MIME parsing is done by the caller.
//
// The verdict for the message:
//   Action failed, Status 5.x.x      -> bounced, hard (the address is suppressed), except
//                                       5.3.x / 5.6.x / 5.7.x (the mail system, the content or
//                                       a policy refused this mail: the address is fine) -> soft
//   Action failed, Status 4.x.x      -> bounced, soft (the MTA gave up; the address may work)
//   Action delayed (any status)      -> delayed: recorded, the message keeps its status
//   Action delivered                 -> delivered
//   Action relayed / expanded        -> other: recorded only
//   Feedback-Type abuse/fraud/virus  -> complained (the member marked it as spam)
//   other feedback types             -> other: recorded only (auth-failure is a DMARC
//                                       forensic report, not-spam the opposite of a complaint)

/** Header-style fields of one block, names lower-cased, folded lines joined. */
export type Fields = ReadonlyMap<string, string>

/** Splits a delivery-status or feedback-report body into its blocks of fields. */
export function parseFieldBlocks(text: string): Fields[] {
  const blocks: Fields[] = []
  let current = new Map<string, string>()
  let last: string | undefined
  for (const line of text.replace(/\r\n?/g, '\n').split('\n')) {
    if (line.trim() === '') {
      if (current.size > 0) blocks.push(current)
      current = new Map()
      last = undefined
      continue
    }
    if (/^[ \t]/.test(line) && last !== undefined) {
      current.set(last, `${current.get(last) ?? ''} ${line.trim()}`)
      continue
    }
    const colon = line.indexOf(':')
    if (colon <= 0) continue
    last = line.slice(0, colon).trim().toLowerCase()
    // A repeated field (rare) keeps its first value, as a reader of the first block would.
    if (!current.has(last)) current.set(last, line.slice(colon + 1).trim())
  }
  if (current.size > 0) blocks.push(current)
  return blocks
}

/** `rfc822; Ann@Example.com` -> `Ann@Example.com` (the address type is dropped). */
function addressOf(value: string | undefined): string | undefined {
  if (!value) return undefined
  const semi = value.indexOf(';')
  const v = (semi >= 0 ? value.slice(semi + 1) : value).trim().replace(/^<|>$/g, '')
  return v || undefined
}

/** `smtp; 550 5.1.1 ...` -> `550 5.1.1 ...` */
function diagnosticOf(value: string | undefined): string | undefined {
  if (!value) return undefined
  const semi = value.indexOf(';')
  return (semi >= 0 && semi < 12 ? value.slice(semi + 1) : value).trim() || undefined
}

export interface DsnRecipient {
  readonly action: string
  /** The enhanced status code, e.g. 5.1.1, when the report gives a well-formed one. */
  readonly status: string | undefined
  readonly finalRecipient: string | undefined
  readonly originalRecipient: string | undefined
  readonly diagnostic: string | undefined
}

export interface DeliveryStatus {
  readonly reportingMta: string | undefined
  readonly recipients: readonly DsnRecipient[]
}

const STATUS = /^([245])\.(\d{1,3})\.(\d{1,3})\b/

/** `given` when it is an enhanced status code (RFC 3463, such as 5.1.1) and nothing else. */
export function enhancedStatus(given: string | undefined): string | undefined {
  return given && /^[245]\.\d{1,3}\.\d{1,3}$/.test(given) ? given : undefined
}

/** The per-message and per-recipient fields of a message/delivery-status part. */
export function parseDeliveryStatus(text: string): DeliveryStatus {
  const [first, ...rest] = parseFieldBlocks(text)
  // The per-message block has no Action; when it is missing the first block is a recipient.
  const blocks = first && !first.has('action') ? rest : [first, ...rest].filter((b) => b !== undefined)
  const perMessage = first && !first.has('action') ? first : undefined
  return {
    reportingMta: diagnosticOf(perMessage?.get('reporting-mta')),
    recipients: blocks
      .filter((b) => b.has('action'))
      .map((b) => ({
        action: (b.get('action') ?? '').toLowerCase().split(/[\s(]/)[0] ?? '',
        status: STATUS.exec(b.get('status') ?? '')?.[0],
        finalRecipient: addressOf(b.get('final-recipient')),
        originalRecipient: addressOf(b.get('original-recipient')),
        diagnostic: diagnosticOf(b.get('diagnostic-code')),
      })),
  }
}

export type EmailReportVerdict =
  | { readonly kind: 'delivered'; readonly status: string | undefined; readonly detail: string }
  | {
      readonly kind: 'bounced'
      readonly bounce: 'hard' | 'soft'
      readonly status: string | undefined
      readonly detail: string
    }
  | { readonly kind: 'delayed'; readonly status: string | undefined; readonly detail: string }
  | { readonly kind: 'complained'; readonly feedbackType: string; readonly detail: string }
  | { readonly kind: 'other'; readonly detail: string }

/** Hard when the status says the address is the problem; see the table at the top. */
export function bounceKindOf(status: string | undefined, diagnostic: string | undefined): 'hard' | 'soft' {
  const m =
    STATUS.exec(status ?? '') ??
    STATUS.exec(/\b([245]\.\d{1,3}\.\d{1,3})\b/.exec(diagnostic ?? '')?.[1] ?? '')
  if (m) return m[1] === '5' && !['3', '6', '7'].includes(m[2] ?? '') ? 'hard' : 'soft'
  // No enhanced status: the SMTP reply code at the start of the diagnostic decides.
  return /^5\d\d\b/.test(diagnostic ?? '') ? 'hard' : 'soft'
}

const RANK: Record<string, number> = { failed: 4, delayed: 3, delivered: 2 }

/** The verdict of a DSN: the most serious recipient decides (Nudge sends one per mail). */
export function dsnVerdict(dsn: DeliveryStatus): EmailReportVerdict | undefined {
  const r = [...dsn.recipients].sort((a, b) => (RANK[b.action] ?? 0) - (RANK[a.action] ?? 0))[0]
  if (!r) return undefined
  const detail = [r.status, r.diagnostic].filter(Boolean).join(' ') || r.action
  switch (r.action) {
    case 'failed':
      return {
        kind: 'bounced',
        bounce: bounceKindOf(r.status, r.diagnostic),
        status: r.status,
        detail: `DSN failed: ${detail}`,
      }
    case 'delayed':
      return { kind: 'delayed', status: r.status, detail: `DSN delayed: ${detail}` }
    case 'delivered':
      return { kind: 'delivered', status: r.status, detail: `DSN delivered: ${detail}` }
    default:
      return { kind: 'other', detail: `DSN ${r.action || 'without an action'}: ${detail}` }
  }
}

const COMPLAINTS = new Set(['abuse', 'fraud', 'virus'])

/** The verdict of an ARF message/feedback-report part. */
export function feedbackVerdict(text: string): EmailReportVerdict | undefined {
  const [fields] = parseFieldBlocks(text)
  const type = fields?.get('feedback-type')?.toLowerCase()
  if (!type) return undefined
  if (!COMPLAINTS.has(type)) return { kind: 'other', detail: `feedback report (${type})` }
  return { kind: 'complained', feedbackType: type, detail: `complaint (${type})` }
}
