// What became of sent messages, written by group commit: outcomes that arrive while a
// write is in flight wait for it and go together in the next one, a single statement
// (messages, events, trace, and the processors woken at its commit). A lone outcome is
// written at once, so this adds no delay when the dispatcher is quiet and saves most
// commits when it is busy. Outcomes with work of their own after the settle (a hard
// bounce's suppression) are written in a transaction with that work.
import type { Db, Tx } from '../../store/db.ts'
import { messageKey } from '../../store/messages.ts'
import { type OutcomeToRecord, recordOutcomes } from './record.ts'

/** Runs in the same transaction once the outcome is recorded (`settled`: the lease held). */
export type AfterSettle = (tx: Tx, settled: boolean) => Promise<void>

interface Item extends OutcomeToRecord {
  readonly after: AfterSettle | undefined
  resolve(settled: boolean): void
  reject(err: unknown): void
}

export interface Settler {
  /** Resolves once committed: false when the lease was lost (nothing was written). */
  settle(item: OutcomeToRecord, after?: AfterSettle): Promise<boolean>
}

export function makeSettler(db: Db, maxBatch = 500): Settler {
  let queue: Item[] = []
  let flushing: Promise<void> | null = null

  async function write(items: Item[]): Promise<void> {
    try {
      const settledKeys = items.some((i) => i.after)
        ? await db.transaction(async (tx) => {
            const settled = await recordOutcomes(tx, items, { notify: true })
            for (const i of items) await i.after?.(tx, settled.has(messageKey(i.message)))
            return settled
          })
        : await recordOutcomes(db, items, { notify: true })
      for (const i of items) i.resolve(settledKeys.has(messageKey(i.message)))
    } catch (err) {
      // One outcome must not cost the others theirs: write each alone, so only its own fails.
      if (items.length === 1) items[0]?.reject(err)
      else for (const i of items) await write([i])
    }
  }

  function flush(): void {
    if (flushing || queue.length === 0) return
    const items = queue.slice(0, maxBatch)
    queue = queue.slice(maxBatch)
    flushing = write(items).finally(() => {
      flushing = null
      flush()
    })
  }

  return {
    settle(item, after) {
      return new Promise<boolean>((resolve, reject) => {
        queue.push({ ...item, after, resolve, reject })
        flush()
      })
    },
  }
}
