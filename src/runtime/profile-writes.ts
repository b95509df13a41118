// The profile writes of a processing round, gathered: each profile's fields as its last
// event left them, and what the round adds to its event counters, written in one statement
// at the end of the round instead of one per event. Until then the database holds the
// state before the round, so whatever reads profiles or counters in the round reads
// through here (counters) or after write() (identity lookups that miss the batch's cache).
import type { ProfileState } from '../domain/profiles/state.ts'
import type { Tx } from '../store/db.ts'
import { type EventCounter, type ProfileSave, readCounters, saveProfiles } from '../store/profiles/write.ts'

interface Pending {
  readonly workspaceId: string
  readonly profileId: string
  state: ProfileState
  readonly counters: Map<string, { count: number; firstAt: Date; lastAt: Date }>
}

export class ProfileWrites {
  readonly #pending = new Map<string, Pending>()

  #of(workspaceId: string, profileId: string, state: ProfileState): Pending {
    const key = `${workspaceId}\u0000${profileId}`
    let p = this.#pending.get(key)
    if (!p) {
      p = { workspaceId, profileId, state, counters: new Map() }
      this.#pending.set(key, p)
    }
    return p
  }

  /** The profile's fields now; `counter` is the event counted by this change, if any. */
  save(
    workspaceId: string,
    profileId: string,
    state: ProfileState,
    counter: { readonly name: string; readonly at: Date } | null,
  ): void {
    const p = this.#of(workspaceId, profileId, state)
    p.state = state
    if (!counter) return
    const c = p.counters.get(counter.name)
    if (!c) p.counters.set(counter.name, { count: 1, firstAt: counter.at, lastAt: counter.at })
    else {
      c.count++
      if (counter.at < c.firstAt) c.firstAt = counter.at
      if (counter.at > c.lastAt) c.lastAt = counter.at
    }
  }

  /** The profile's counters (all, or one event's) as they will be once the round is written. */
  async counters(tx: Tx, workspaceId: string, profileId: string, event?: string): Promise<EventCounter[]> {
    const stored = await readCounters(tx, workspaceId, profileId, event)
    const pending = this.#pending.get(`${workspaceId}\u0000${profileId}`)?.counters
    if (!pending?.size) return stored
    const out = new Map(stored.map((c) => [c.event, c]))
    for (const [name, c] of pending) {
      if (event !== undefined && name !== event) continue
      const s = out.get(name)
      out.set(
        name,
        s
          ? {
              event: name,
              count: s.count + c.count,
              firstAt: c.firstAt < s.firstAt ? c.firstAt : s.firstAt,
              lastAt: c.lastAt > s.lastAt ? c.lastAt : s.lastAt,
            }
          : { event: name, count: c.count, firstAt: c.firstAt, lastAt: c.lastAt },
      )
    }
    return [...out.values()].sort((a, b) => (a.event < b.event ? -1 : a.event > b.event ? 1 : 0))
  }

  /** Writes what is pending, in one statement, and starts afresh. */
  async write(tx: Tx, now: Date): Promise<void> {
    const saves = this.take()
    if (saves.length) await saveProfiles(tx, saves, now)
  }

  /** What is pending, for the caller to write (saveProfiles, finishRound), and starts afresh. */
  take(): ProfileSave[] {
    const saves = [...this.#pending.values()]
    this.#pending.clear()
    return saves
  }
}
