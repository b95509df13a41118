// Resolves API keys to a workspace, with a short-lived cache so the ingest hot path
// does not query the database on every request. Revocation takes effect within the TTL.
import type { Queryable } from '../store/db.ts'
import { findKey, type KeyInfo, type KeyKind } from '../store/workspaces.ts'

export interface KeyResolver {
  resolve(secret: string, kind: KeyKind): Promise<KeyInfo | undefined>
  forget(): void
}

export function makeKeyResolver(db: Queryable, ttlMs = 30_000, now: () => number = Date.now): KeyResolver {
  const cache = new Map<string, { key: KeyInfo | undefined; until: number }>()
  return {
    async resolve(secret, kind) {
      if (!secret) return undefined
      const hit = cache.get(secret)
      let key: KeyInfo | undefined
      if (hit && hit.until > now()) key = hit.key
      else {
        key = await findKey(db, secret)
        if (cache.size > 10_000) cache.clear()
        cache.set(secret, { key, until: now() + ttlMs })
      }
      return key?.kind === kind ? key : undefined
    },
    forget: () => cache.clear(),
  }
}

/** The user part of an HTTP Basic header (Segment sends the write key there). */
export function basicUser(header: string | undefined): string | undefined {
  if (!header?.startsWith('Basic ')) return undefined
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8')
  const i = decoded.indexOf(':')
  return i === -1 ? decoded : decoded.slice(0, i)
}

export function bearer(header: string | undefined): string | undefined {
  return header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined
}
