// Bounce addresses handed out as the envelope sender of mail, and the message each stands
// for. A row is only trusted when its handle is the MAC of its own (workspace, profile,
// message): a handle that was never handed out, or one made up, finds nothing.
import { derivedSecret, sameSecret } from '../domain/member-auth.ts'
import { type BounceThread, bounceAddressOf, bounceHandle } from '../domain/messages/bounce-address.ts'
import type { Queryable } from './db.ts'
import { suppressionHash } from './suppressions.ts'
import { workspaceSecret } from './workspace-secrets.ts'

export interface BounceTarget extends BounceThread {
  /** The hash (as suppressions keep it) of the address the mail went to. */
  readonly addressHash: string | null
}

/** The envelope sender of a message's mail; the same message always gets the same address. */
export async function bounceAddressFor(
  db: Queryable,
  t: BounceThread & { readonly address: string | undefined },
  domain: string,
  at: Date,
): Promise<string> {
  const secret = await workspaceSecret(db, t.workspaceId)
  if (!secret) throw new Error(`no workspace ${t.workspaceId}`)
  const handle = bounceHandle(derivedSecret(secret, 'bounce'), t)
  await db.query(
    `INSERT INTO bounce_handles (handle, workspace_id, profile_id, message_id, address_hash, created_at)
     VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (handle) DO UPDATE SET address_hash = coalesce(EXCLUDED.address_hash, bounce_handles.address_hash)`,
    [
      handle,
      t.workspaceId,
      t.profileId,
      t.messageId,
      t.address ? suppressionHash('email', t.address) : null,
      at.toISOString(),
    ],
  )
  return bounceAddressOf(handle, domain)
}

export async function findBounceTarget(db: Queryable, handle: string): Promise<BounceTarget | undefined> {
  const rows = await db.query<{
    workspace_id: string
    profile_id: string
    message_id: string
    address_hash: string | null
  }>('SELECT workspace_id, profile_id, message_id, address_hash FROM bounce_handles WHERE handle = $1', [
    handle,
  ])
  const r = rows[0]
  if (!r) return undefined
  const t = { workspaceId: r.workspace_id, profileId: r.profile_id, messageId: r.message_id }
  const secret = await workspaceSecret(db, t.workspaceId)
  if (!secret || !sameSecret(handle, bounceHandle(derivedSecret(secret, 'bounce'), t))) return undefined
  return { ...t, addressHash: r.address_hash }
}
