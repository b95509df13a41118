// Finds (or creates, or merges into) the profile an event belongs to, inside the
// processor's transaction. The decision is the pure planner's; this applies it and
// copes with other partitions racing on the same identities: a lost race is never an
// error, it is a reason to look again.
import { randomUUID } from 'node:crypto'
import {
  type Identity,
  type IdentityInput,
  identitiesOf,
  identityKey,
  type KnownProfile,
  planIdentity,
} from '../../domain/profiles/identity.ts'
import type { ProfileState } from '../../domain/profiles/state.ts'
import type { Queryable } from '../db.ts'
import {
  claimIdentities,
  createProfile,
  findProfiles,
  type LockedProfile,
  mergeProfiles,
  setUserId,
} from './write.ts'

export interface ResolvedProfile {
  readonly profileId: string
  readonly userId: string | null
  readonly state: ProfileState
  /** True when this event created the profile. */
  readonly created: boolean
  /** Profiles absorbed into this one while resolving this event. */
  readonly merged: readonly string[]
}

/**
 * What one batch transaction already knows: identities resolved and profiles locked
 * by it. Valid until the transaction ends because nobody else can change a profile (or
 * move its identities) while we hold its row lock.
 */
export class ProfileCache {
  readonly #byIdentity = new Map<string, string>()
  readonly #profiles = new Map<string, { userId: string | null; state: ProfileState }>()

  profileOf(workspaceId: string, identity: Identity): string | undefined {
    return this.#byIdentity.get(`${workspaceId}\u0000${identityKey(identity)}`)
  }
  get(workspaceId: string, profileId: string) {
    return this.#profiles.get(`${workspaceId}\u0000${profileId}`)
  }
  remember(workspaceId: string, identities: readonly Identity[], p: LockedProfile | ResolvedProfile): void {
    for (const i of identities) this.#byIdentity.set(`${workspaceId}\u0000${identityKey(i)}`, p.profileId)
    this.#profiles.set(`${workspaceId}\u0000${p.profileId}`, { userId: p.userId, state: p.state })
  }
  update(workspaceId: string, profileId: string, state: ProfileState): void {
    const key = `${workspaceId}\u0000${profileId}`
    const known = this.#profiles.get(key)
    if (known) this.#profiles.set(key, { ...known, state })
  }
  /** The profiles known so far, by workspace. */
  profileIds(): Map<string, string[]> {
    const out = new Map<string, string[]>()
    for (const key of this.#profiles.keys()) {
      const [ws, id] = key.split('\u0000') as [string, string]
      const list = out.get(ws)
      if (list) list.push(id)
      else out.set(ws, [id])
    }
    return out
  }
  /** After a merge or a new identity, the simple way to stay right is to forget. */
  clear(): void {
    this.#byIdentity.clear()
    this.#profiles.clear()
  }
}

const MAX_ROUNDS = 6

/**
 * Looks up (and locks, in one consistent order) the profiles of every identity a batch
 * mentions, in one query per workspace, so that most events then resolve from the cache.
 */
export async function prefetchProfiles(
  tx: Queryable,
  inputs: ReadonlyArray<{ readonly workspaceId: string; readonly input: IdentityInput }>,
  cache: ProfileCache,
): Promise<void> {
  const byWorkspace = new Map<string, Map<string, Identity>>()
  for (const { workspaceId, input } of inputs) {
    let ids = byWorkspace.get(workspaceId)
    if (!ids) {
      ids = new Map()
      byWorkspace.set(workspaceId, ids)
    }
    for (const i of identitiesOf(input)) ids.set(identityKey(i), i)
  }
  for (const [workspaceId, ids] of byWorkspace) {
    const found = await findProfiles(tx, workspaceId, [...ids.values()])
    for (const [key, profile] of found) {
      const identity = ids.get(key)
      if (identity && profile.mergedInto === null) cache.remember(workspaceId, [identity], profile)
    }
  }
}

export async function resolveProfile(
  tx: Queryable,
  workspaceId: string,
  input: IdentityInput,
  at: Date,
  now: Date,
  cache: ProfileCache,
  opts: {
    /** Called before the database is read: a caller holding profile writes back writes them. */
    readonly beforeLookup?: () => Promise<void>
  } = {},
): Promise<ResolvedProfile> {
  const identities = identitiesOf(input)
  const fast = fromCache(workspaceId, input, identities, cache)
  if (fast) return fast
  await opts.beforeLookup?.()

  let createdId: string | null = null
  const merged: string[] = []
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const found = await findProfiles(tx, workspaceId, identities)
    // Merged away by another partition while we waited for the lock: look again.
    if ([...found.values()].some((p) => p.mergedInto !== null)) continue
    const plan = planIdentity(input, (i) => found.get(identityKey(i)))
    const done = (p: LockedProfile): ResolvedProfile => {
      const resolved = { ...p, created: p.profileId === createdId, merged }
      if (merged.length || createdId) cache.clear()
      cache.remember(workspaceId, identities, resolved)
      return resolved
    }
    switch (plan.kind) {
      case 'use': {
        const profile = [...found.values()].find((p) => p.profileId === plan.profileId) as LockedProfile
        const claimed = await claimIdentities(tx, workspaceId, plan.profileId, plan.attach, at)
        if (claimed.length < plan.attach.length) continue
        if (plan.setUserId === null) return done(profile)
        await setUserId(tx, workspaceId, plan.profileId, plan.setUserId)
        return done({ ...profile, userId: plan.setUserId })
      }
      case 'create': {
        const id = randomUUID()
        const claimed = await claimIdentities(tx, workspaceId, id, plan.attach, at)
        if (claimed.length === 0) continue
        const userId = claimed.some((i) => i.kind === 'user_id') ? plan.userId : null
        const profile = await createProfile(tx, workspaceId, id, userId, at, now)
        createdId = id
        // Partly claimed: another transaction holds the rest; the next round links them.
        if (claimed.length < plan.attach.length) continue
        return done(profile)
      }
      case 'merge': {
        const target = await mergeProfiles(tx, workspaceId, plan.source, plan.target, now)
        merged.push(plan.source)
        const claimed = await claimIdentities(tx, workspaceId, plan.target, plan.attach, at)
        if (claimed.length < plan.attach.length) continue
        return done(target)
      }
      default: {
        const never: never = plan
        throw new Error(`Unknown identity plan ${JSON.stringify(never)}`)
      }
    }
  }
  throw new Error(`Identity resolution did not settle after ${MAX_ROUNDS} rounds`)
}

/** The common case (an identity this batch already resolved, nothing to link) costs no query. */
function fromCache(
  workspaceId: string,
  input: IdentityInput,
  identities: readonly Identity[],
  cache: ProfileCache,
): ResolvedProfile | null {
  const known = new Map<string, KnownProfile>()
  for (const i of identities) {
    const profileId = cache.profileOf(workspaceId, i)
    const p = profileId ? cache.get(workspaceId, profileId) : undefined
    if (!profileId || !p) return null
    known.set(identityKey(i), { profileId, userId: p.userId })
  }
  const plan = planIdentity(input, (i) => known.get(identityKey(i)))
  if (plan.kind !== 'use' || plan.attach.length || plan.setUserId !== null) return null
  const p = cache.get(workspaceId, plan.profileId)
  if (!p) return null
  return { profileId: plan.profileId, userId: p.userId, state: p.state, created: false, merged: [] }
}
