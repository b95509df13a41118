// What the processor's hooks read about the profiles of one processing round, read once
// for all of them. The processor opens a cache on the round's transaction with the
// profiles it is about to process; the first read of a kind (a profile's record, its open
// runs, its past events of some names...) loads that kind for every profile of the round
// in one statement, and later reads are answered from memory.
//
// The database stays the truth: every write goes to it at once, and the store function
// that writes also patches the cache, or forgets the profile so that its next read goes
// to the database for it alone. Forgetting is always right; patching saves the read.
// Outside a round (timers, the admin API) there is no cache and every read is direct.
import type { HeldBadge } from '../domain/community/badges.ts'
import type { ScoreState } from '../domain/community/score.ts'
import type { StageState } from '../domain/community/stage-progress.ts'
import type { EventFacts } from '../domain/conditions/types.ts'
import type { Traits } from '../domain/profiles/traits.ts'
import type { Queryable } from './db.ts'

/** A profile as conditions and the community model read it, in parts writers patch. */
export interface ProfileRecord {
  readonly userId: string | null
  readonly traits: Traits
  readonly timezone: string | null
  readonly firstSeenAt: Date
  readonly lastSeenAt: Date
  readonly stage: StageState | null
  readonly score: ScoreState | null
  readonly badges: ReadonlyMap<string, HeldBadge>
  readonly segments: ReadonlySet<string>
}

/** The fields of the profile row itself. */
export type ProfileRow = Partial<
  Pick<ProfileRecord, 'userId' | 'traits' | 'timezone' | 'firstSeenAt' | 'lastSeenAt'>
>

export type PastEvent = EventFacts & { readonly messageId: string }

type LoadMany<T> = (ids: readonly string[]) => Promise<ReadonlyMap<string, T>>

const RECORD = 'record'

export class RoundCache {
  /** Profiles of the round by workspace: what a first read loads at once. */
  readonly #profiles = new Map<string, Set<string>>()
  /** Profiles this round created: nothing of theirs is stored but what the round wrote. */
  readonly #fresh = new Set<string>()
  /** `kind\0ws` -> profile -> value (null: loaded, and there is none). */
  readonly #parts = new Map<string, Map<string, unknown>>()
  readonly #memo = new Map<string, Promise<unknown>>()
  /** First loads under way, by `kind\0ws`: a read of the same kind meanwhile waits for it. */
  readonly #loading = new Map<string, Promise<unknown>>()
  /** Events this round processed, by profile: the log files them under their profile at its end. */
  readonly #processed = new Map<string, PastEvent[]>()
  /** The processor's fields of the round's profiles, newer than the database's. */
  readonly #rows = new Map<string, ProfileRow>()

  constructor(profiles: ReadonlyMap<string, Iterable<string>>) {
    for (const [ws, ids] of profiles) this.#profiles.set(ws, new Set(ids))
  }

  /** A profile the round created: its parts are empty until the round writes them. */
  created(ws: string, profileId: string): void {
    this.#join(ws, profileId)
    this.#fresh.add(`${ws}\u0000${profileId}`)
  }

  /**
   * One kind of read for one profile. The first read of a kind in a workspace loads it for
   * every profile of the round; a profile not among those loaded is read alone.
   */
  async part<T>(kind: string, ws: string, profileId: string, loadMany: LoadMany<T>, empty: T): Promise<T> {
    const key = `${kind}\u0000${ws}`
    const loading = this.#loading.get(key)
    if (loading) await loading.catch(() => {})
    let values = this.#parts.get(key)
    if (values?.has(profileId)) return values.get(profileId) as T
    if (this.#fresh.has(`${ws}\u0000${profileId}`)) return empty
    const first = values === undefined
    const ids = first
      ? [...(this.#profiles.get(ws) ?? [])].filter((p) => !this.#fresh.has(`${ws}\u0000${p}`))
      : []
    if (!ids.includes(profileId)) ids.push(profileId)
    const load = loadMany(ids)
    if (first) {
      this.#loading.set(key, load)
      void load
        .finally(() => {
          if (this.#loading.get(key) === load) this.#loading.delete(key)
        })
        .catch(() => {})
    }
    const loaded = await load
    values = this.#parts.get(key) ?? new Map<string, unknown>()
    this.#parts.set(key, values)
    for (const id of ids) if (!values.has(id)) values.set(id, loaded.get(id) ?? empty)
    return values.get(profileId) as T
  }

  /** The next read of this profile, of any kind, goes to the database. */
  forget(ws: string, profileId: string): void {
    this.#fresh.delete(`${ws}\u0000${profileId}`)
    for (const [key, values] of this.#parts) if (key.endsWith(`\u0000${ws}`)) values.delete(profileId)
  }

  /**
   * The profile's record, loaded with the round's others by `loadMany`. The profile's own
   * fields are the processor's (it writes them to the database only at the end of the round).
   */
  record(ws: string, profileId: string, loadMany: LoadMany<ProfileRecord>): Promise<ProfileRecord | null> {
    const withRows: LoadMany<ProfileRecord> = async (ids) => {
      const loaded = new Map(await loadMany(ids))
      for (const [id, record] of loaded) {
        const row = this.#rows.get(`${ws}\u0000${id}`)
        if (row) loaded.set(id, { ...record, ...row })
      }
      return loaded
    }
    return this.part<ProfileRecord | null>(RECORD, ws, profileId, withRows, null)
  }

  /** The profile's fields as the processor holds them now (saved at the end of the round). */
  row(ws: string, profileId: string, row: ProfileRow): void {
    const key = `${ws}\u0000${profileId}`
    this.#rows.set(key, { ...this.#rows.get(key), ...row })
    this.patchRecord(ws, profileId, row)
  }

  /** Patches the profile's record where the round holds it. */
  patchRecord(ws: string, profileId: string, change: Partial<ProfileRecord>): void {
    const values = this.#parts.get(`${RECORD}\u0000${ws}`)
    const current = values?.get(profileId) as ProfileRecord | null | undefined
    if (current) values?.set(profileId, { ...current, ...change })
    else if (current === undefined && this.#fresh.has(`${ws}\u0000${profileId}`)) this.forget(ws, profileId)
  }

  /** Sets the record of a profile the round created (the processor, after saving it). */
  setRecord(ws: string, profileId: string, record: ProfileRecord): void {
    const key = `${RECORD}\u0000${ws}`
    const values = this.#parts.get(key) ?? new Map<string, unknown>()
    this.#parts.set(key, values)
    values.set(profileId, record)
  }

  /** A value computed once per round (a workspace's settings). */
  memo<T>(key: string, load: () => Promise<T>): Promise<T> {
    let hit = this.#memo.get(key) as Promise<T> | undefined
    if (!hit) {
      hit = load()
      this.#memo.set(key, hit)
      hit.catch(() => this.#memo.delete(key))
    }
    return hit
  }

  /** Notes an event the round processed for a profile (not yet filed under it in the log). */
  processed(ws: string, profileId: string, event: PastEvent): void {
    const key = `${ws}\u0000${profileId}`
    const list = this.#processed.get(key)
    if (list) list.push(event)
    else this.#processed.set(key, [event])
  }

  /** Moves what the round processed for merged profiles to the survivor. */
  merged(ws: string, survivor: string, gone: readonly string[]): void {
    for (const g of gone) {
      const list = this.#processed.get(`${ws}\u0000${g}`)
      if (!list) continue
      this.#processed.delete(`${ws}\u0000${g}`)
      for (const e of list) this.processed(ws, survivor, e)
    }
    for (const g of gone) {
      this.#rows.delete(`${ws}\u0000${g}`)
      this.forget(ws, g)
    }
    this.forget(ws, survivor)
  }

  /** Events of this round already processed for the profile, oldest first. */
  processedEvents(ws: string, profileId: string): readonly PastEvent[] {
    return this.#processed.get(`${ws}\u0000${profileId}`) ?? []
  }

  #join(ws: string, profileId: string): void {
    const set = this.#profiles.get(ws)
    if (set) set.add(profileId)
    else this.#profiles.set(ws, new Set([profileId]))
  }
}

const rounds = new WeakMap<Queryable, RoundCache>()

/** Opens the round's cache on its transaction. */
export function openRoundCache(tx: Queryable, profiles: ReadonlyMap<string, Iterable<string>>): RoundCache {
  const cache = new RoundCache(profiles)
  rounds.set(tx, cache)
  return cache
}

export function closeRoundCache(tx: Queryable): void {
  rounds.delete(tx)
}

/** The round cache of this transaction, if it is a processing round's. */
export function roundCacheOf(q: Queryable): RoundCache | undefined {
  return rounds.get(q)
}
