// Erasure ("right to be forgotten"): a person's profile, the profiles merged into
// it and all their personal data go in one transaction; hashes of their identifiers
// stay as suppressions so they are never contacted or re-created again.
import { eraseCommunityRows } from '../community-merge.ts'
import type { Db, Queryable } from '../db.ts'
import { recordSuppressions, type Suppression } from '../suppressions.ts'
import { profileFamily, resolveProfileId } from './read.ts'

export interface Erased {
  readonly profileId: string
  /** Rows removed per kind of data, e.g. { events: 12, identities: 3, ... }. */
  readonly counts: Readonly<Record<string, number>>
  readonly suppressions: number
}

interface Person {
  readonly workspaceId: string
  readonly profileIds: readonly string[]
  readonly userIds: readonly string[]
  readonly anonymousIds: readonly string[]
}

async function countDeleted(tx: Queryable, sql: string, params: readonly unknown[]): Promise<number> {
  const [row] = await tx.query<{ n: number }>(
    `WITH d AS (${sql} RETURNING 1) SELECT count(*)::int AS n FROM d`,
    [...params],
  )
  return row?.n ?? 0
}

/**
 * One step per table holding personal data. Aggregates added later (journey runs,
 * messages, scores, ...) add their step here so an erasure stays complete.
 * Events are matched by identifiers too: those not yet processed carry no profile id.
 */
const steps: ReadonlyArray<readonly [string, (tx: Queryable, p: Person) => Promise<number>]> = [
  [
    'events',
    (tx, p) =>
      countDeleted(
        tx,
        `DELETE FROM events WHERE workspace_id = $1
           AND (profile_id = ANY($2::uuid[]) OR user_id = ANY($3::text[]) OR anonymous_id = ANY($4::text[]))`,
        [p.workspaceId, p.profileIds, p.userIds, p.anonymousIds],
      ),
  ],
  [
    'identities',
    (tx, p) =>
      countDeleted(
        tx,
        'DELETE FROM profile_identities WHERE workspace_id = $1 AND profile_id = ANY($2::uuid[])',
        [p.workspaceId, p.profileIds],
      ),
  ],
  [
    'counters',
    (tx, p) =>
      countDeleted(
        tx,
        'DELETE FROM profile_event_counters WHERE workspace_id = $1 AND profile_id = ANY($2::uuid[])',
        [p.workspaceId, p.profileIds],
      ),
  ],
  [
    'groupMemberships',
    (tx, p) =>
      countDeleted(
        tx,
        'DELETE FROM profile_groups WHERE workspace_id = $1 AND profile_id = ANY($2::uuid[])',
        [p.workspaceId, p.profileIds],
      ),
  ],
  [
    'segmentMemberships',
    (tx, p) =>
      countDeleted(
        tx,
        'DELETE FROM segment_members WHERE workspace_id = $1 AND profile_id = ANY($2::uuid[])',
        [p.workspaceId, p.profileIds],
      ),
  ],
  ['community', (tx, p) => eraseCommunityRows(tx, p.workspaceId, p.profileIds)],
  [
    'profiles',
    (tx, p) =>
      countDeleted(tx, 'DELETE FROM profiles WHERE workspace_id = $1 AND profile_id = ANY($2::uuid[])', [
        p.workspaceId,
        p.profileIds,
      ]),
  ],
]

/** Erases the person `id` (userId, anonymousId or profile id); undefined when unknown. */
export async function eraseProfile(db: Db, workspaceId: string, id: string): Promise<Erased | undefined> {
  return db.transaction(async (tx) => {
    const profileId = await resolveProfileId(tx, workspaceId, id)
    if (!profileId) return undefined
    const profileIds = await profileFamily(tx, workspaceId, profileId)
    // Lock the rows so a concurrent processor update waits for us and then finds nothing.
    const profiles = await tx.query<{ user_id: string | null; email: string | null }>(
      `SELECT user_id, traits ->> 'email' AS email FROM profiles
        WHERE workspace_id = $1 AND profile_id = ANY($2::uuid[]) FOR UPDATE`,
      [workspaceId, profileIds],
    )
    const identities = await tx.query<{ kind: 'user_id' | 'anonymous_id'; value: string }>(
      'SELECT kind, value FROM profile_identities WHERE workspace_id = $1 AND profile_id = ANY($2::uuid[])',
      [workspaceId, profileIds],
    )
    const userIds = new Set(identities.filter((i) => i.kind === 'user_id').map((i) => i.value))
    for (const p of profiles) if (p.user_id) userIds.add(p.user_id)
    const anonymousIds = new Set(identities.filter((i) => i.kind === 'anonymous_id').map((i) => i.value))
    const person: Person = {
      workspaceId,
      profileIds,
      userIds: [...userIds],
      anonymousIds: [...anonymousIds],
    }

    const suppress: Suppression[] = [
      ...person.userIds.map((value) => ({ kind: 'user_id' as const, value })),
      ...person.anonymousIds.map((value) => ({ kind: 'anonymous_id' as const, value })),
      ...profiles.flatMap((p) => (p.email ? [{ kind: 'email' as const, value: p.email }] : [])),
    ]
    const counts: Record<string, number> = {}
    for (const [name, step] of steps) counts[name] = await step(tx, person)
    const suppressions = await recordSuppressions(tx, workspaceId, suppress, 'erased')
    return { profileId, counts, suppressions }
  })
}
