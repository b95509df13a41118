// The profile a message goes to, read by the dispatcher under a lock of its own: two
// workers deciding messages of the same member take turns, so a dedupe key or a cap is
// never passed twice at once. The lock is a transaction-scoped advisory lock on the
// profile, not its row lock, so deciding never holds up the processor's round on the
// same member (nor the other way round).
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
 * lockRecipient for many profiles; keyed by `workspace\0profile`, missing profiles absent.
 */
export async function lockRecipients(
  tx: Queryable,
  keys: ReadonlyArray<{ readonly workspaceId: string; readonly profileId: string }>,
): Promise<Map<string, RecipientProfile>> {
  const out = new Map<string, RecipientProfile>()
  if (keys.length === 0) return out
  // One statement takes the locks in one order (so two workers never deadlock).
  await tx.query(
    `SELECT count(pg_advisory_xact_lock(k)) FROM (
       SELECT DISTINCT hashtextextended(x.w || '/' || x.p, 0) AS k
       FROM jsonb_to_recordset($1::jsonb) AS x(w text, p text) ORDER BY 1
     ) locks`,
    [JSON.stringify(keys.map((k) => ({ w: k.workspaceId, p: k.profileId })))],
  )
  const rows = await tx.query<{
    workspace_id: string
    profile_id: string
    user_id: string | null
    traits: Record<string, unknown>
    timezone: string | null
    anonymous_ids: string[] | null
  }>(
    // One key lookup per profile, and its identities through profile_identities_profile
    // (the kind is filtered after): joined as sets, the planner, expecting 100 keys of the
    // JSON, read every profile of the workspace, and it could read a workspace's every
    // anonymous identity through the identities' key (workspace, kind, value) for each.
    `SELECT p.workspace_id, p.profile_id, p.user_id, p.traits, p.timezone,
       (SELECT array_agg(i.value ORDER BY i.first_seen_at, i.value) FILTER (WHERE i.kind = 'anonymous_id')
        FROM profile_identities i
        WHERE i.workspace_id = p.workspace_id AND i.profile_id = p.profile_id) AS anonymous_ids
     FROM jsonb_to_recordset($1::jsonb) AS x(w text, p uuid)
     CROSS JOIN LATERAL (
       SELECT * FROM profiles p WHERE p.workspace_id = x.w AND p.profile_id = x.p LIMIT 1
     ) p`,
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
