// The per-workspace secret that signs links, reply addresses and member tokens. Made from
// crypto-random bytes the first time it is needed; it never changes afterwards, so it is
// cached for the life of the process.
import { randomBytes } from 'node:crypto'
import { derivedSecret } from '../domain/member-auth.ts'
import type { Queryable } from './db.ts'

const caches = new WeakMap<Queryable, Map<string, string>>()

/** The workspace's link secret, or undefined when the workspace does not exist. */
export async function workspaceSecret(db: Queryable, workspaceId: string): Promise<string | undefined> {
  let cache = caches.get(db)
  if (!cache) {
    cache = new Map()
    caches.set(db, cache)
  }
  const hit = cache.get(workspaceId)
  if (hit) return hit
  // Two processes may race on first use: the conditional update lets one win and both read it.
  await db.query('UPDATE workspaces SET link_secret = $2 WHERE id = $1 AND link_secret IS NULL', [
    workspaceId,
    randomBytes(32).toString('base64url'),
  ])
  const rows = await db.query<{ link_secret: string }>('SELECT link_secret FROM workspaces WHERE id = $1', [
    workspaceId,
  ])
  const secret = rows[0]?.link_secret
  if (secret) cache.set(workspaceId, secret)
  return secret
}

/**
 * The secret a community site's server uses to sign its members' tokens for the in-app
 * API and the widget (see domain/member-auth.ts). Derived, so it can be handed out without
 * giving away the key that signs links.
 */
export async function workspaceIdentitySecret(
  db: Queryable,
  workspaceId: string,
): Promise<string | undefined> {
  const secret = await workspaceSecret(db, workspaceId)
  return secret && derivedSecret(secret, 'identity')
}

/** The secret a provider's inbound-parse webhook presents (POST /v1/inbound/email). */
export async function workspaceInboundSecret(
  db: Queryable,
  workspaceId: string,
): Promise<string | undefined> {
  const secret = await workspaceSecret(db, workspaceId)
  return secret && derivedSecret(secret, 'inbound')
}
