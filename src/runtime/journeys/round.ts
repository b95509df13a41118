// The journeys hook's writes in a processing round, gathered and written at its end with
// one statement per table (runs, messages, trace). Timers are written at once: a later
// event of the round may cancel what an earlier one scheduled. Reads of runs see the
// round's own gathered runs, so a profile's second event finds what its first one did.
import type { AdvanceResult } from '../../domain/journeys/engine.ts'
import { entryHistory } from '../../domain/journeys/entry.ts'
import type { Run } from '../../domain/journeys/run.ts'
import type { Journey } from '../../domain/journeys/types.ts'
import type { Tx } from '../../store/db.ts'
import { openRuns, pastEntries, type StoredRun } from '../../store/runs.ts'
import { cancelTimers, scheduleTimers } from '../../store/timers.ts'
import {
  type AdvanceWrites,
  type EffectIO,
  newAdvanceWrites,
  recordAdvance,
  writeAdvances,
} from './effects.ts'

/** What one round gathered: the writes, and the runs by profile as the round left them. */
interface Round {
  readonly writes: AdvanceWrites
  readonly runs: Map<string, Map<string, Run>>
}

export interface Rounds {
  /** Applies an advance in the round of `tx`: timers at once, the rest at flush. */
  apply(tx: Tx, ws: string, journey: Journey, result: AdvanceResult, now: Date, io: EffectIO): Promise<void>
  /** Adds trace entries (a skipped entry) to the round. */
  trace(tx: Tx, trace: AdvanceWrites['trace'][number]): void
  /** The profile's open runs, as this round left them. */
  openRuns(tx: Tx, ws: string, profileId: string): Promise<StoredRun[]>
  /** Earlier entries into a journey, as many as its entry rule needs, including those of this round. */
  pastEntries(
    tx: Tx,
    ws: string,
    profileId: string,
    journey: Pick<Journey, 'id' | 'entry' | 'trigger'>,
    now: Date,
  ): Promise<Array<{ key: string; enteredAt: Date }>>
  /** Writes what the round of `tx` gathered. */
  flush(tx: Tx): Promise<void>
}

export function makeRounds(): Rounds {
  const rounds = new WeakMap<Tx, Round>()
  const roundOf = (tx: Tx): Round => {
    let r = rounds.get(tx)
    if (!r) {
      r = { writes: newAdvanceWrites(), runs: new Map() }
      rounds.set(tx, r)
    }
    return r
  }

  async function applyInRound(
    tx: Tx,
    ws: string,
    journey: Journey,
    result: AdvanceResult,
    now: Date,
    io: EffectIO,
  ): Promise<void> {
    const w = newAdvanceWrites()
    await recordAdvance(tx, ws, journey, result, now, io, w)
    // Timers at once: a later event of the round may cancel what this one schedules.
    await cancelTimers(tx, w.cancel)
    await scheduleTimers(tx, w.schedule)
    const round = roundOf(tx)
    round.writes.runs.push(...w.runs)
    round.writes.messages.push(...w.messages)
    round.writes.trace.push(...w.trace)
    const key = `${ws}/${result.run.profileId}`
    const runs = round.runs.get(key) ?? new Map<string, Run>()
    runs.set(result.run.id, result.run)
    round.runs.set(key, runs)
  }

  async function openRunsInRound(tx: Tx, ws: string, profileId: string): Promise<StoredRun[]> {
    const stored = await openRuns(tx, ws, profileId)
    const gathered = rounds.get(tx)?.runs.get(`${ws}/${profileId}`)
    if (!gathered) return stored
    const seen = new Set(stored.map((s) => s.run.id))
    const all = [
      ...stored.map((s) => {
        const run = gathered.get(s.run.id)
        return run ? { ...s, run } : s
      }),
      ...[...gathered.values()]
        .filter((run) => !seen.has(run.id))
        .map((run) => ({ run, journeyId: run.journeyId, version: run.version })),
    ]
    return all.filter((s) => s.run.endedAt === null)
  }

  async function pastEntriesInRound(
    tx: Tx,
    ws: string,
    profileId: string,
    journey: Pick<Journey, 'id' | 'entry' | 'trigger'>,
    now: Date,
  ) {
    const history = entryHistory(journey)
    const past = await pastEntries(tx, ws, profileId, journey.id, history, now)
    if (history.kind === 'none') return past
    const gathered = rounds.get(tx)?.runs.get(`${ws}/${profileId}`)
    for (const run of gathered?.values() ?? [])
      if (run.journeyId === journey.id && !past.some((p) => p.key === run.key))
        past.push({ key: run.key, enteredAt: run.enteredAt })
    return past
  }

  async function flush(tx: Tx): Promise<void> {
    const round = rounds.get(tx)
    if (!round) return
    rounds.delete(tx)
    await writeAdvances(tx, round.writes)
  }

  return {
    apply: applyInRound,
    trace: (tx, trace) => {
      roundOf(tx).writes.trace.push(trace)
    },
    openRuns: openRunsInRound,
    pastEntries: pastEntriesInRound,
    flush,
  }
}
