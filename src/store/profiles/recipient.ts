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
    anonymous_ids: string[] | null
  }>(
    `SELECT p.user_id, p.traits, p.timezone,
       (SELECT array_agg(i.value) FROM profile_identities i
        WHERE i.workspace_id = p.workspace_id AND i.profile_id = p.profile_id AND i.kind = 'anonymous_id') AS anonymous_ids
     FROM profiles p WHERE p.workspace_id = $1 AND p.profile_id = $2 FOR UPDATE OF p`,
    [workspaceId, profileId],
  )
  const r = rows[0]
  if (!r) return undefined
  return {
    profileId,
    userId: r.user_id,
    anonymousIds: r.anonymous_ids ?? [],
    traits: r.traits,
    timezone: r.timezone,
  }
}
