// Replies to messages: the reply addresses handed out, and the replies received, threaded
// to the member and the message. Read by the admin API (all replies, or one member's).
import { derivedSecret, sameSecret } from '../domain/member-auth.ts'
import { type ReplyThread, replyAddressOf, replyHandle } from '../domain/messages/reply-address.ts'
import type { Queryable } from './db.ts'
import { workspaceSecret } from './workspace-secrets.ts'

/**
 * The Reply-To address for a message: reply+<handle>@<domain>. The dispatcher sets it on
 * mail "from a person" (e.g. a feedback ask). Idempotent: the same message always gets
 * the same address.
 */
export async function replyToAddress(
  db: Queryable,
  t: ReplyThread,
  domain: string,
  at: Date,
): Promise<string> {
  const secret = await workspaceSecret(db, t.workspaceId)
  if (!secret) throw new Error(`no workspace ${t.workspaceId}`)
  const handle = replyHandle(derivedSecret(secret, 'reply'), t)
  await db.query(
    `INSERT INTO reply_handles (handle, workspace_id, profile_id, message_id, created_at)
     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (handle) DO NOTHING`,
    [handle, t.workspaceId, t.profileId, t.messageId, at.toISOString()],
  )
  return replyAddressOf(handle, domain)
}

/** The thread a handle stands for, checked against its workspace's secret. */
export async function findReplyThread(db: Queryable, handle: string): Promise<ReplyThread | undefined> {
  const rows = await db.query<{ workspace_id: string; profile_id: string; message_id: string }>(
    'SELECT workspace_id, profile_id, message_id FROM reply_handles WHERE handle = $1',
    [handle],
  )
  const r = rows[0]
  if (!r) return undefined
  const t = { workspaceId: r.workspace_id, profileId: r.profile_id, messageId: r.message_id }
  const secret = await workspaceSecret(db, t.workspaceId)
  // A row that does not match its own MAC was not written by replyToAddress.
  if (!secret || !sameSecret(handle, replyHandle(derivedSecret(secret, 'reply'), t))) return undefined
  return t
}

export interface Reply {
  readonly workspaceId: string
  readonly profileId: string
  readonly replyId: string
  readonly messageId: string
  readonly source: 'smtp' | 'webhook'
  readonly fromAddress: string | null
  readonly subject: string | null
  readonly text: string
  readonly strippedText: string
  readonly html: string | null
  readonly receivedAt: Date
}

/** Stores a reply; false when this reply (same reply id) was stored before. */
export async function insertReply(db: Queryable, r: Reply): Promise<boolean> {
  const rows = await db.query(
    `INSERT INTO message_replies (workspace_id, profile_id, reply_id, message_id, source, from_address, subject,
                                  text, stripped_text, html, received_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
     ON CONFLICT (workspace_id, profile_id, reply_id) DO NOTHING RETURNING 1`,
    [
      r.workspaceId,
      r.profileId,
      r.replyId,
      r.messageId,
      r.source,
      r.fromAddress,
      r.subject,
      r.text,
      r.strippedText,
      r.html,
      r.receivedAt.toISOString(),
    ],
  )
  return rows.length > 0
}

interface ReplyRow {
  workspace_id: string
  profile_id: string
  reply_id: string
  message_id: string
  source: 'smtp' | 'webhook'
  from_address: string | null
  subject: string | null
  text: string
  stripped_text: string
  html: string | null
  received_at: Date
}

const toReply = (r: ReplyRow): Reply => ({
  workspaceId: r.workspace_id,
  profileId: r.profile_id,
  replyId: r.reply_id,
  messageId: r.message_id,
  source: r.source,
  fromAddress: r.from_address,
  subject: r.subject,
  text: r.text,
  strippedText: r.stripped_text,
  html: r.html,
  receivedAt: r.received_at,
})

/** The workspace's replies, newest first; `before` pages back through older ones. */
export async function listReplies(
  db: Queryable,
  workspaceId: string,
  opts: { limit?: number; before?: Date } = {},
): Promise<Reply[]> {
  const rows = await db.query<ReplyRow>(
    `SELECT * FROM message_replies WHERE workspace_id = $1 AND ($2::timestamptz IS NULL OR received_at < $2)
     ORDER BY received_at DESC, reply_id LIMIT $3`,
    [workspaceId, opts.before?.toISOString() ?? null, opts.limit ?? 50],
  )
  return rows.map(toReply)
}

/** One member's replies, newest first. */
export async function listProfileReplies(
  db: Queryable,
  workspaceId: string,
  profileId: string,
  limit = 50,
): Promise<Reply[]> {
  const rows = await db.query<ReplyRow>(
    `SELECT * FROM message_replies WHERE workspace_id = $1 AND profile_id = $2
     ORDER BY received_at DESC, reply_id LIMIT $3`,
    [workspaceId, profileId, limit],
  )
  return rows.map(toReply)
}
