// Identity resolution: which profile an event belongs to, and which identities to
// attach or which profiles to merge on the way. Pure: the store looks up the profiles
// that hold the event's identities, this decides, the store applies the plan.

export type IdentityKind = 'user_id' | 'anonymous_id'

export interface Identity {
  readonly kind: IdentityKind
  readonly value: string
}

/** A live profile that holds one of the event's identities. */
export interface KnownProfile {
  readonly profileId: string
  readonly userId: string | null
}

export interface IdentityInput {
  readonly type: string
  readonly userId: string | null
  readonly anonymousId: string | null
  /** `previousId` of an alias call. */
  readonly previousId: string | null
}

export type IdentityPlan =
  /** Use an existing profile, attaching identities it does not hold yet. */
  | {
      readonly kind: 'use'
      readonly profileId: string
      readonly attach: readonly Identity[]
      /** Set when the profile becomes identified by this userId. */
      readonly setUserId: string | null
    }
  /** No profile holds any identity: create one holding them all. */
  | { readonly kind: 'create'; readonly userId: string | null; readonly attach: readonly Identity[] }
  /** `source` is the same person as `target`: absorb it, then attach identities to `target`. */
  | {
      readonly kind: 'merge'
      readonly source: string
      readonly target: string
      readonly attach: readonly Identity[]
    }

export const identityKey = (i: Identity): string => `${i.kind}:${i.value}`

/** The identities whose profiles the planner needs to know. */
export function identitiesOf(input: IdentityInput): Identity[] {
  const out: Identity[] = []
  if (input.userId) out.push({ kind: 'user_id', value: input.userId })
  if (input.anonymousId && input.type !== 'alias')
    out.push({ kind: 'anonymous_id', value: input.anonymousId })
  if (input.type === 'alias' && input.previousId && input.previousId !== input.userId) {
    // previousId is either an earlier userId or an anonymousId: look up both.
    out.push({ kind: 'user_id', value: input.previousId }, { kind: 'anonymous_id', value: input.previousId })
  }
  return out
}

type Lookup = (identity: Identity) => KnownProfile | undefined

/**
 * Any event that carries both a userId and an anonymousId links them (as Segment's
 * identity resolution does), not only identify: SDKs send both after an identify.
 * An anonymous profile merges into the identified one. Two different known userIds are
 * never merged implicitly (a shared device): the anonymousId stays where it was. Only
 * `alias` merges two identified profiles, because it says explicitly that they are one.
 */
export function planIdentity(input: IdentityInput, find: Lookup): IdentityPlan {
  if (input.type === 'alias') return planAlias(input, find)
  const user: Identity | null = input.userId ? { kind: 'user_id', value: input.userId } : null
  const anon: Identity | null = input.anonymousId ? { kind: 'anonymous_id', value: input.anonymousId } : null
  if (!user && !anon) throw new Error('The event has neither userId nor anonymousId')
  const byUser = user ? find(user) : undefined
  const byAnon = anon ? find(anon) : undefined

  if (!user) {
    return byAnon ? use(byAnon.profileId) : { kind: 'create', userId: null, attach: [anon as Identity] }
  }
  if (byUser) {
    if (!anon) return use(byUser.profileId)
    if (!byAnon) return use(byUser.profileId, [anon])
    if (byAnon.profileId === byUser.profileId) return use(byUser.profileId)
    if (byAnon.userId === null)
      return { kind: 'merge', source: byAnon.profileId, target: byUser.profileId, attach: [] }
    return use(byUser.profileId)
  }
  // The userId is new.
  if (byAnon && byAnon.userId === null) return use(byAnon.profileId, [user], user.value)
  const attach = anon && !byAnon ? [user, anon] : [user]
  return { kind: 'create', userId: user.value, attach }
}

function planAlias(input: IdentityInput, find: Lookup): IdentityPlan {
  const target = input.userId
  if (!target) throw new Error('An alias needs a userId')
  const user: Identity = { kind: 'user_id', value: target }
  const byUser = find(user)
  const prev = input.previousId && input.previousId !== target ? input.previousId : null
  if (!prev) return byUser ? use(byUser.profileId) : { kind: 'create', userId: target, attach: [user] }
  const byPrev = find({ kind: 'user_id', value: prev }) ?? find({ kind: 'anonymous_id', value: prev })
  // An unknown previousId is kept as an anonymousId, so later events sent with it land here.
  const prevAnon: Identity = { kind: 'anonymous_id', value: prev }
  if (byPrev && byUser) {
    if (byPrev.profileId === byUser.profileId) return use(byUser.profileId)
    return { kind: 'merge', source: byPrev.profileId, target: byUser.profileId, attach: [] }
  }
  if (byPrev) return use(byPrev.profileId, [user], target)
  if (byUser) return use(byUser.profileId, [prevAnon])
  return { kind: 'create', userId: target, attach: [user, prevAnon] }
}

function use(
  profileId: string,
  attach: readonly Identity[] = [],
  setUserId: string | null = null,
): IdentityPlan {
  return { kind: 'use', profileId, attach, setUserId }
}
