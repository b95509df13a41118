// Browsers' Web Push subscriptions, one per member and browser (endpoint). The widget's
// site registers them through the public API; the dispatcher reads them to send, and
// removes one when the push channel reports it expired (404/410).
import type { PushSubscription } from '../channels/types.ts'
import type { Queryable } from './db.ts'

export async function savePushSubscription(
  db: Queryable,
  workspaceId: string,
  profileId: string,
  sub: PushSubscription,
  at: Date,
  userAgent?: string,
): Promise<void> {
  await db.query(
    `INSERT INTO push_subscriptions (workspace_id, profile_id, endpoint, p256dh, auth, user_agent, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
     ON CONFLICT (workspace_id, profile_id, endpoint)
     DO UPDATE SET p256dh = EXCLUDED.p256dh, auth = EXCLUDED.auth, user_agent = EXCLUDED.user_agent, updated_at = EXCLUDED.updated_at`,
    [
      workspaceId,
      profileId,
      sub.endpoint,
      sub.keys.p256dh,
      sub.keys.auth,
      userAgent?.slice(0, 512) ?? null,
      at.toISOString(),
    ],
  )
}

/** The member's subscriptions, most recently refreshed first. */
export async function pushSubscriptionsOf(
  db: Queryable,
  workspaceId: string,
  profileId: string,
): Promise<PushSubscription[]> {
  const rows = await db.query<{ endpoint: string; p256dh: string; auth: string }>(
    `SELECT endpoint, p256dh, auth FROM push_subscriptions WHERE workspace_id = $1 AND profile_id = $2
     ORDER BY updated_at DESC`,
    [workspaceId, profileId],
  )
  return rows.map((r) => ({ endpoint: r.endpoint, keys: { p256dh: r.p256dh, auth: r.auth } }))
}

/**
 * Forgets an endpoint: the push channel answered `expired` for it, or the browser
 * unsubscribed. Returns how many rows went (an endpoint can be shared after a merge).
 */
export async function removePushSubscription(
  db: Queryable,
  workspaceId: string,
  endpoint: string,
  /** Only this member's (a browser unsubscribing); every member's when the endpoint expired. */
  profileId?: string,
): Promise<number> {
  const rows = await db.query(
    `DELETE FROM push_subscriptions WHERE workspace_id = $1 AND endpoint = $2 AND ($3::uuid IS NULL OR profile_id = $3)
     RETURNING 1`,
    [workspaceId, endpoint, profileId ?? null],
  )
  return rows.length
}
