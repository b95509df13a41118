// Signed links in messages: unsubscribe, preferences, open pixel, click redirect. A token is
// `<payload>.<mac>`: the base64url JSON claims and an HMAC-SHA256 of them with the
// workspace's secret. Everything the link acts on is inside the claims, the click target
// URL included, so a changed URL or a token from another workspace fails verification and
// the click endpoint can never be used as an open redirect.
import { createHmac, timingSafeEqual } from 'node:crypto'

export type LinkClaims =
  | {
      readonly kind: 'unsubscribe'
      readonly workspaceId: string
      readonly profileId: string
      readonly topic: string
      /** The message the link came in, so an unsubscribe is credited to its journey and step. */
      readonly messageId?: string
    }
  | { readonly kind: 'preferences'; readonly workspaceId: string; readonly profileId: string }
  | { readonly kind: 'open'; readonly workspaceId: string; readonly messageId: string }
  | { readonly kind: 'click'; readonly workspaceId: string; readonly messageId: string; readonly url: string }

export type LinkKind = LinkClaims['kind']

/** Paths of the public endpoints that receive each kind of link. */
export const LINK_PATHS: Readonly<Record<LinkKind, string>> = {
  unsubscribe: '/u/',
  preferences: '/p/',
  open: '/o/',
  click: '/c/',
}

/**
 * How long a link works. Unsubscribe, open and click links live as long as the mail in
 * someone's inbox (RFC 8058 asks that unsubscribing keep working); a preferences link opens
 * a page that can change subscriptions, so it expires.
 */
export const LINK_TTL_MS: Readonly<Record<LinkKind, number | undefined>> = {
  unsubscribe: undefined,
  preferences: 30 * 24 * 3600_000,
  open: undefined,
  click: undefined,
}

// Short keys keep URLs short; `k` is signed, so a pixel token cannot be replayed as an unsubscribe.
interface Wire {
  v: 1
  k: LinkKind
  w: string
  p?: string
  t?: string
  m?: string
  u?: string
  x?: number
}

function mac(secret: string, payload: string): Buffer {
  // 128 bits is plenty against forgery and keeps links readable.
  return createHmac('sha256', secret).update(`nudge-link.${payload}`).digest().subarray(0, 16)
}

export function signLink(
  claims: LinkClaims,
  secret: string,
  now: Date,
  ttlMs = LINK_TTL_MS[claims.kind],
): string {
  const wire: Wire = { v: 1, k: claims.kind, w: claims.workspaceId }
  switch (claims.kind) {
    case 'unsubscribe':
      wire.p = claims.profileId
      wire.t = claims.topic
      if (claims.messageId) wire.m = claims.messageId
      break
    case 'preferences':
      wire.p = claims.profileId
      break
    case 'open':
      wire.m = claims.messageId
      break
    case 'click':
      wire.m = claims.messageId
      wire.u = claims.url
      break
    default: {
      const never: never = claims
      throw new Error(`unknown link ${JSON.stringify(never)}`)
    }
  }
  if (ttlMs !== undefined) wire.x = Math.floor((now.getTime() + ttlMs) / 1000)
  const payload = Buffer.from(JSON.stringify(wire)).toString('base64url')
  return `${payload}.${mac(secret, payload).toString('base64url')}`
}

function decode(token: string): { payload: string; sig: string; wire: Wire } | undefined {
  const m = /^([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)$/.exec(token)
  if (!m) return undefined
  try {
    const wire = JSON.parse(Buffer.from(m[1]!, 'base64url').toString('utf8')) as Wire
    if (wire?.v !== 1 || typeof wire.w !== 'string' || typeof wire.k !== 'string') return undefined
    return { payload: m[1]!, sig: m[2]!, wire }
  } catch {
    return undefined
  }
}

/** The workspace a token claims to be from, unverified: to know whose secret checks it. */
export function peekWorkspace(token: string): string | undefined {
  return decode(token)?.wire.w
}

export type VerifyLinkResult =
  | { readonly ok: true; readonly claims: LinkClaims }
  | { readonly ok: false; readonly reason: 'malformed' | 'bad-signature' | 'wrong-kind' | 'expired' }

export function verifyLink(token: string, secret: string, now: Date, expected?: LinkKind): VerifyLinkResult {
  const d = decode(token)
  if (!d) return { ok: false, reason: 'malformed' }
  const want = mac(secret, d.payload)
  const got = Buffer.from(d.sig, 'base64url')
  if (got.length !== want.length || !timingSafeEqual(got, want)) return { ok: false, reason: 'bad-signature' }
  const w = d.wire
  if (expected && w.k !== expected) return { ok: false, reason: 'wrong-kind' }
  if (w.x !== undefined && now.getTime() / 1000 > w.x) return { ok: false, reason: 'expired' }
  const str = (v: unknown): v is string => typeof v === 'string' && v.length > 0
  switch (w.k) {
    case 'unsubscribe':
      if (str(w.p) && str(w.t)) {
        const m = str(w.m) ? { messageId: w.m } : {}
        return { ok: true, claims: { kind: w.k, workspaceId: w.w, profileId: w.p, topic: w.t, ...m } }
      }
      break
    case 'preferences':
      if (str(w.p)) return { ok: true, claims: { kind: w.k, workspaceId: w.w, profileId: w.p } }
      break
    case 'open':
      if (str(w.m)) return { ok: true, claims: { kind: w.k, workspaceId: w.w, messageId: w.m } }
      break
    case 'click':
      if (str(w.m) && str(w.u) && isHttpUrl(w.u)) {
        return { ok: true, claims: { kind: w.k, workspaceId: w.w, messageId: w.m, url: w.u } }
      }
      break
  }
  return { ok: false, reason: 'malformed' }
}

export function isHttpUrl(value: string): boolean {
  try {
    const u = new URL(value)
    return u.protocol === 'https:' || u.protocol === 'http:'
  } catch {
    return false
  }
}

/** The public URL of a link, e.g. https://nudge.example/c/<token>. */
export function linkUrl(baseUrl: string, claims: LinkClaims, secret: string, now: Date): string {
  const token = signLink(claims, secret, now)
  const suffix = claims.kind === 'open' ? '.gif' : ''
  return `${baseUrl.replace(/\/$/, '')}${LINK_PATHS[claims.kind]}${token}${suffix}`
}
