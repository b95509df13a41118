// The profile a message goes to, read by the dispatcher under a row lock: two workers
// deciding messages of the same member take turns, so a dedupe key or a cap is never
// passed twice at once.
import type { Queryable } from '../db.ts'

export interface RecipientProfile {
  readonly profileId: string
  readonly userId: string | null
  readonly anonymousIds: readonly string[]
  readonly traits: Readonly<Record<string, unknown>>
  readonly timezone: string | null
}

export async function lockRecipient(
  tx: Queryable,
  workspaceId: string,
  profileId: string,
): Promise<RecipientProfile | undefined> {
  const rows = await tx.query<{
    user_id: string | null
    traits: Record<string, unknown>
    timezone: string | null
  }>(
    'SELECT user_id, traits, timezone FROM profiles WHERE workspace_id = $1 AND profile_id = $2 FOR UPDATE',
    [workspaceId, profileId],
  )
  const r = rows[0]
  if (!r) return undefined
  const ids = await tx.query<{ value: string }>(
    `SELECT value FROM profile_identities WHERE workspace_id = $1 AND profile_id = $2 AND kind = 'anonymous_id'`,
    [workspaceId, profileId],
  )
  return {
    profileId,
    userId: r.user_id,
    anonymousIds: ids.map((i) => i.value),
    traits: r.traits,
    timezone: r.timezone,
  }
}
