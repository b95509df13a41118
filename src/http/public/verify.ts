// Verifies a signed link from a public URL: the token names its workspace, whose secret
// must check its signature. Any failure is one answer (400) that changes nothing.
import { type LinkClaims, type LinkKind, peekWorkspace, verifyLink } from '../../domain/links.ts'
import type { Queryable } from '../../store/db.ts'
import { workspaceSecret } from '../../store/workspace-secrets.ts'

export type Verified<K extends LinkKind> =
  | { readonly ok: true; readonly claims: Extract<LinkClaims, { kind: K }>; readonly secret: string }
  | { readonly ok: false; readonly reason: string }

export async function verifyPublicLink<K extends LinkKind>(
  db: Queryable,
  token: string,
  kind: K,
  now: Date,
): Promise<Verified<K>> {
  const workspaceId = peekWorkspace(token)
  if (!workspaceId) return { ok: false, reason: 'malformed' }
  const secret = await workspaceSecret(db, workspaceId)
  if (!secret) return { ok: false, reason: 'unknown workspace' }
  const v = verifyLink(token, secret, now, kind)
  if (!v.ok) return { ok: false, reason: v.reason }
  return { ok: true, claims: v.claims as Extract<LinkClaims, { kind: K }>, secret }
}
