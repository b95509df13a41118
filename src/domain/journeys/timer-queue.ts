// The simulator's pending timers: a binary min-heap on (time, order of scheduling), so the
// next due timer is found in log time however many runs are waiting. Rescheduling or
// cancelling a timer leaves its old entry in the heap; `next` skips entries that are no
// longer the timer's current one.

export interface QueuedTimer {
  readonly id: string
  readonly at: Date
  readonly seq: number
  readonly runId: string
}

export class TimerQueue {
  private readonly heap: QueuedTimer[] = []
  private readonly current = new Map<string, QueuedTimer>()
  private seq = 0

  schedule(id: string, at: Date, runId: string): void {
    const timer = { id, at, seq: this.seq++, runId }
    this.current.set(id, timer)
    this.heap.push(timer)
    this.up(this.heap.length - 1)
  }

  cancel(id: string): void {
    this.current.delete(id)
  }

  /** Removes and returns the earliest timer due at or before `t` (before it, if not inclusive). */
  takeDue(t: Date, inclusive: boolean): QueuedTimer | null {
    for (;;) {
      const top = this.heap[0]
      if (!top) return null
      if (this.current.get(top.id) !== top) {
        this.pop()
        continue
      }
      const due = inclusive ? top.at <= t : top.at < t
      if (!due) return null
      this.pop()
      this.current.delete(top.id)
      return top
    }
  }

  private before(a: QueuedTimer, b: QueuedTimer): boolean {
    return a.at.getTime() < b.at.getTime() || (a.at.getTime() === b.at.getTime() && a.seq < b.seq)
  }

  private pop(): void {
    const last = this.heap.pop()
    if (last && this.heap.length > 0) {
      this.heap[0] = last
      this.down(0)
    }
  }

  private up(i: number): void {
    const h = this.heap
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!this.before(h[i]!, h[parent]!)) return
      ;[h[i], h[parent]] = [h[parent]!, h[i]!]
      i = parent
    }
  }

  private down(i: number): void {
    const h = this.heap
    for (;;) {
      const l = 2 * i + 1
      const r = l + 1
      let min = i
      if (l < h.length && this.before(h[l]!, h[min]!)) min = l
      if (r < h.length && this.before(h[r]!, h[min]!)) min = r
      if (min === i) return
      ;[h[i], h[min]] = [h[min]!, h[i]!]
      i = min
    }
  }
}
