// Secrets derived from a workspace's link secret, one per purpose, so that a value made for
// one purpose can never be replayed as another (a member token is not a link signature).
// The member token lets a community site prove to the public API who its member is:
// token = hex(HMAC-SHA256(key = identity secret, message = userId)), computed by the
// site's server, which knows the identity secret; the browser only ever sees its own token.
import { createHmac, timingSafeEqual } from 'node:crypto'

export type SecretPurpose = 'identity' | 'inbound' | 'reply' | 'bounce'

export function derivedSecret(linkSecret: string, purpose: SecretPurpose): string {
  return createHmac('sha256', linkSecret).update(`nudge-derive.${purpose}`).digest('hex')
}

/** What the community site's server computes for its logged-in member. */
export function memberToken(identitySecret: string, userId: string): string {
  return createHmac('sha256', identitySecret).update(userId).digest('hex')
}

/** Constant-time comparison of two secrets given as text. */
export function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given)
  const b = Buffer.from(expected)
  return a.length === b.length && timingSafeEqual(a, b)
}

export function verifyMemberToken(identitySecret: string, userId: string, token: string): boolean {
  return sameSecret(token.toLowerCase(), memberToken(identitySecret, userId))
}
