// Group commit for ingest. Concurrent requests' events are gathered while a write
// is in flight and stored by the next single insertEvents call, so the database
// commits once for many requests instead of once per request. Each request's
// promise settles with the write that holds all of its events: it is acknowledged
// only once they are committed, and a failed write fails exactly its requests.
//
// Memory is bounded: past `maxQueuedBytes` waiting, submit() refuses at once (503,
// retry later) instead of queueing without end.
import { NudgeError } from '../domain/errors.ts'
import type { NewEvent } from '../domain/events/types.ts'
import type { Logger } from '../log.ts'
import type { Db, Queryable } from '../store/db.ts'
import { EVENTS_CHANNEL, insertEvents, notifyEvents } from '../store/events.ts'

export interface IngestBuffer {
  /**
   * Resolves once every event is committed (or was already in the log: a duplicate
   * messageId); rejects with a 503 NudgeError when they were not stored.
   * `bytes` is the request's size, what the memory bound counts. The answer counts
   * the events that were not stored because their messageId already was (in the
   * log, or earlier in the same write).
   */
  submit(events: readonly NewEvent[], bytes: number): Promise<SubmitResult>
  /** Events waiting for a write, and bytes accepted but not yet committed (the memory bound). */
  pending(): { readonly events: number; readonly bytes: number }
  /**
   * Sends the NOTIFY an interval still holds back, before the database closes: other
   * processes then learn of the last writes at once, not at their next poll.
   */
  close?(): Promise<void>
}

export interface SubmitResult {
  readonly duplicates: number
}

/** The most NOTIFYs a buffer sends for its writes, one per this many milliseconds. */
export const NOTIFY_EVERY_MS = 10

export interface IngestBufferOptions {
  /** A Db: this process's listeners are called at once, and everyone's by NOTIFY (see wake). */
  readonly db: Queryable | Db
  readonly log?: Logger | undefined
  /** Bytes waiting or being written before submit() refuses. */
  readonly maxQueuedBytes?: number
  /** At most this many events per write; a request's events always stay together. */
  readonly maxWriteEvents?: number
  /** The most NOTIFYs for other processes: one per this many milliseconds (NOTIFY_EVERY_MS). */
  readonly notifyEveryMs?: number
  /** Concurrent writes (1 on an embedded database: it has one connection). */
  readonly maxConcurrentWrites?: number
}

interface Waiting {
  readonly events: readonly NewEvent[]
  readonly bytes: number
  resolve(result: SubmitResult): void
  reject(err: unknown): void
}

export function makeIngestBuffer(opts: IngestBufferOptions): IngestBuffer {
  const maxQueuedBytes = opts.maxQueuedBytes ?? 64 * 1024 * 1024
  const maxWriteEvents = opts.maxWriteEvents ?? 5_000
  const maxConcurrentWrites = opts.maxConcurrentWrites ?? 1
  const notifyEveryMs = opts.notifyEveryMs ?? NOTIFY_EVERY_MS
  let queue: Waiting[] = []
  let queuedEvents = 0
  let outstandingBytes = 0
  let writing = 0

  const takeWrite = (): Waiting[] => {
    let n = 0
    let events = 0
    while (n < queue.length) {
      const next = queue[n] as Waiting
      if (n > 0 && events + next.events.length > maxWriteEvents) break
      events += next.events.length
      n++
    }
    const taken = queue.slice(0, n)
    queue = queue.slice(n)
    queuedEvents -= events
    return taken
  }

  // A write starts on the next turn of the event loop rather than at once, so that
  // every request already read off the sockets joins it. This matters most on the
  // embedded database, whose queries run on this thread: there a write is never
  // "in flight" while requests are parsed, and without the pause nothing would group.
  let scheduled = false
  const pump = (): void => {
    if (scheduled || writing >= maxConcurrentWrites || queue.length === 0) return
    scheduled = true
    setImmediate(startWrites)
  }
  const startWrites = (): void => {
    scheduled = false
    while (writing < maxConcurrentWrites && queue.length > 0) {
      const group = takeWrite()
      writing++
      void write(group)
    }
  }

  const write = async (group: readonly Waiting[]): Promise<void> => {
    const events = group.length === 1 ? (group[0] as Waiting).events : group.flatMap((w) => w.events)
    let failure: unknown
    let inserted: ReadonlySet<string> = new Set()
    try {
      inserted = (await insertEvents(opts.db, events, { notify: false })).inserted
    } catch (err) {
      failure = err
    }
    // Release the capacity before settling, so an acknowledged client can send again at once.
    writing--
    for (const w of group) outstandingBytes -= w.bytes
    if (failure === undefined) {
      // A messageId stored by this write belongs to its first occurrence; any other is a duplicate.
      const claimed = new Set<string>()
      for (const w of group) {
        let duplicates = 0
        for (const e of w.events) {
          if (inserted.has(e.messageId) && !claimed.has(e.messageId)) claimed.add(e.messageId)
          else duplicates++
        }
        w.resolve({ duplicates })
      }
      if (inserted.size > 0) wake()
    } else {
      opts.log?.error({ err: failure, events: events.length, requests: group.length }, 'ingest write failed')
      const fail = new NudgeError('NUDGE_ERR_INGEST_WRITE_FAILED')
      for (const w of group) w.reject(fail)
    }
    pump()
  }

  // After a commit: this process's processor is called at once, and the others are sent a
  // NOTIFY, at most one per NOTIFY_EVERY_MS. A NOTIFY is a statement, and its delivery a
  // message to every listening connection: under load, one per write would cost more than
  // the writes. A lone write is notified at once; a burst gets one at its start and one at
  // the end of each interval, so another process learns of a write within that interval.
  // An embedded database has no other process to tell.
  const here = 'notifyHere' in opts.db ? opts.db : undefined
  const others = here?.isShared ?? true
  let notifying = false
  let notifyAgain = false
  let notifyTimer: ReturnType<typeof setTimeout> | undefined
  let lastNotifyAt = Number.NEGATIVE_INFINITY
  let closed = false
  let inFlightNotify: Promise<void> = Promise.resolve()
  const sendNotify = () =>
    notifyEvents(opts.db).catch((err: unknown) =>
      opts.log?.warn({ err }, 'could not notify the processors of new events'),
    )
  const notifyOthers = (): void => {
    if (notifying || notifyTimer) {
      notifyAgain = true
      return
    }
    const wait = lastNotifyAt + notifyEveryMs - performance.now()
    if (wait > 0) {
      notifyTimer = setTimeout(() => {
        notifyTimer = undefined
        notifyOthers()
      }, wait)
      notifyTimer.unref?.()
      return
    }
    notifying = true
    notifyAgain = false
    lastNotifyAt = performance.now()
    inFlightNotify = sendNotify().finally(() => {
      notifying = false
      if (notifyAgain && !closed) notifyOthers()
    })
  }
  const wake = (): void => {
    here?.notifyHere(EVENTS_CHANNEL)
    if (others) notifyOthers()
  }

  return {
    submit(events, bytes) {
      if (events.length === 0) return Promise.resolve({ duplicates: 0 })
      if (outstandingBytes > 0 && outstandingBytes + bytes > maxQueuedBytes)
        return Promise.reject(new NudgeError('NUDGE_ERR_INGEST_BUSY'))
      return new Promise<SubmitResult>((resolve, reject) => {
        queue.push({ events, bytes, resolve, reject })
        queuedEvents += events.length
        outstandingBytes += bytes
        pump()
      })
    },
    pending: () => ({ events: queuedEvents, bytes: outstandingBytes }),
    async close() {
      closed = true
      const held = notifyAgain || notifyTimer !== undefined
      if (notifyTimer) clearTimeout(notifyTimer)
      notifyTimer = undefined
      await inFlightNotify
      if (held && others) await sendNotify()
    },
  }
}
