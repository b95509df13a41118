// Tells a member's open or click from a machine's: mail security scanners (Proofpoint,
// Mimecast, Safe Links...) and prefetchers fetch every image and follow every link, often
// seconds after delivery. Such hits are recorded, flagged, and not counted as human.
// Proxies that fetch on the member's behalf when they open the mail (Gmail's
// GoogleImageProxy) are human opens and are not flagged.

/** A hit this soon after the message was sent is taken for a prefetch. */
export const DEFAULT_PREFETCH_WINDOW_MS = 5_000

const BOT_AGENTS: readonly [RegExp, string][] = [
  [/bot\b|crawler|spider|slurp/i, 'crawler'],
  [/prefetch|preview|linkcheck|link-?scan|urlscan/i, 'prefetch'],
  [
    /barracuda|proofpoint|mimecast|symantec|forcepoint|trendmicro|sophos|fireeye|ironport|safelinks/i,
    'scanner',
  ],
  [/Microsoft Office Protection|MSOffice Safelinks|Office365 ATP/i, 'scanner'],
  [
    /HeadlessChrome|PhantomJS|python-requests|python-urllib|aiohttp|curl\/|wget\/|Go-http-client|okhttp|Java\/|libwww|httpclient|node-fetch|axios\//i,
    'script',
  ],
]

export type HitVerdict = { readonly bot: false } | { readonly bot: true; readonly reason: string }

export interface Hit {
  readonly userAgent: string | undefined
  readonly at: Date
  /** When the message was handed to its channel; null when not known yet. */
  readonly sentAt: Date | null
  readonly prefetchWindowMs?: number
}

export function classifyHit(hit: Hit): HitVerdict {
  const ua = hit.userAgent?.trim() ?? ''
  if (!ua) return { bot: true, reason: 'no user agent' }
  for (const [re, kind] of BOT_AGENTS) if (re.test(ua)) return { bot: true, reason: `user agent: ${kind}` }
  const windowMs = hit.prefetchWindowMs ?? DEFAULT_PREFETCH_WINDOW_MS
  if (hit.sentAt && hit.at.getTime() - hit.sentAt.getTime() < windowMs) {
    return { bot: true, reason: `within ${Math.round(windowMs / 1000)}s of sending` }
  }
  return { bot: false }
}
