// In-app messages kept per profile for the widget: stored by the in_app channel, listed,
// marked read and dismissed through the public API.
import type { InAppDelivery, InAppInbox } from '../channels/types.ts'
import type { Queryable } from './db.ts'

export async function insertInAppMessage(db: Queryable, m: InAppDelivery): Promise<boolean> {
  const rows = await db.query(
    `INSERT INTO in_app_messages (workspace_id, profile_id, message_id, kind, title, body, url, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (workspace_id, profile_id, message_id) DO NOTHING
     RETURNING 1`,
    [m.workspaceId, m.profileId, m.messageId, m.kind, m.title, m.body, m.url, m.createdAt.toISOString()],
  )
  return rows.length > 0
}

/** The in_app channel's storage, over this database. */
export function inAppInbox(db: Queryable): InAppInbox {
  return { deliver: async (m) => ({ created: await insertInAppMessage(db, m) }) }
}

export interface InAppMessage {
  readonly id: string
  readonly kind: InAppDelivery['kind']
  readonly title: string | null
  readonly body: string
  readonly url: string | null
  readonly createdAt: Date
  readonly readAt: Date | null
}

/** Messages the member has not dismissed, newest first. */
export async function listInAppMessages(
  db: Queryable,
  workspaceId: string,
  profileId: string,
  limit = 50,
): Promise<InAppMessage[]> {
  const rows = await db.query<{
    message_id: string
    kind: InAppDelivery['kind']
    title: string | null
    body: string
    url: string | null
    created_at: Date
    read_at: Date | null
  }>(
    `SELECT message_id, kind, title, body, url, created_at, read_at FROM in_app_messages
     WHERE workspace_id = $1 AND profile_id = $2 AND dismissed_at IS NULL
     ORDER BY created_at DESC, message_id LIMIT $3`,
    [workspaceId, profileId, limit],
  )
  return rows.map((r) => ({
    id: r.message_id,
    kind: r.kind,
    title: r.title,
    body: r.body,
    url: r.url,
    createdAt: r.created_at,
    readAt: r.read_at,
  }))
}

/**
 * Marks a message read or dismissed (dismissing also reads it). `found` is false when the
 * profile has no such message; `first` is true the first time this mark was set.
 */
export async function markInAppMessage(
  db: Queryable,
  workspaceId: string,
  profileId: string,
  messageId: string,
  mark: 'read' | 'dismissed',
  at: Date,
): Promise<{ found: boolean; first: boolean }> {
  const key = [workspaceId, profileId, messageId]
  const rows = await db.query<{ read_at: Date | null; dismissed_at: Date | null }>(
    `SELECT read_at, dismissed_at FROM in_app_messages
     WHERE workspace_id = $1 AND profile_id = $2 AND message_id = $3 FOR UPDATE`,
    key,
  )
  const r = rows[0]
  if (!r) return { found: false, first: false }
  const first = mark === 'read' ? r.read_at === null : r.dismissed_at === null
  if (first) {
    await db.query(
      `UPDATE in_app_messages SET read_at = coalesce(read_at, $4),
         dismissed_at = CASE WHEN $5 THEN coalesce(dismissed_at, $4) ELSE dismissed_at END
       WHERE workspace_id = $1 AND profile_id = $2 AND message_id = $3`,
      [...key, at.toISOString(), mark === 'dismissed'],
    )
  }
  return { found: true, first }
}
