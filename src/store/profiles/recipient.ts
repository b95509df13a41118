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
  return (await lockRecipients(tx, [{ workspaceId, profileId }])).get(`${workspaceId}\u0000${profileId}`)
}

/**
 * lockRecipient for many profiles in one statement, locked in one order (so two workers
 * never deadlock); keyed by `workspace\0profile`, missing profiles absent.
 */
export async function lockRecipients(
  tx: Queryable,
  keys: ReadonlyArray<{ readonly workspaceId: string; readonly profileId: string }>,
): Promise<Map<string, RecipientProfile>> {
  const out = new Map<string, RecipientProfile>()
  if (keys.length === 0) return out
  const rows = await tx.query<{
    workspace_id: string
    profile_id: string
    user_id: string | null
    traits: Record<string, unknown>
    timezone: string | null
    anonymous_ids: string[] | null
  }>(
    `SELECT p.workspace_id, p.profile_id, p.user_id, p.traits, p.timezone,
       (SELECT array_agg(i.value) FROM profile_identities i
        WHERE i.workspace_id = p.workspace_id AND i.profile_id = p.profile_id AND i.kind = 'anonymous_id') AS anonymous_ids
     FROM profiles p JOIN jsonb_to_recordset($1::jsonb) AS x(w text, p uuid)
       ON p.workspace_id = x.w AND p.profile_id = x.p
     ORDER BY p.workspace_id, p.profile_id
     FOR UPDATE OF p`,
    [JSON.stringify(keys.map((k) => ({ w: k.workspaceId, p: k.profileId })))],
  )
  for (const r of rows)
    out.set(`${r.workspace_id}\u0000${r.profile_id}`, {
      profileId: r.profile_id,
      userId: r.user_id,
      anonymousIds: r.anonymous_ids ?? [],
      traits: r.traits,
      timezone: r.timezone,
    })
  return out
}
