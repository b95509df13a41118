// Time is injected everywhere so tests and the simulator can move it.
export interface Clock {
  now(): Date
}

export const systemClock: Clock = { now: () => new Date() }

/** A clock that only moves when told to (tests, simulator). */
export class FakeClock implements Clock {
  private t: number
  constructor(start: Date | string | number = '2026-01-05T09:00:00Z') {
    this.t = new Date(start).getTime()
  }
  now(): Date {
    return new Date(this.t)
  }
  set(at: Date | string | number): void {
    this.t = new Date(at).getTime()
  }
  advance(ms: number): void {
    this.t += ms
  }
}
