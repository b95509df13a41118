import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { FakeClock } from '../../../src/domain/clock.ts'
import {
  addPoints,
  applyDecay,
  applyEvent,
  crossings,
  nextDownCrossingAt,
  type ScoreState,
  scoreAt,
  ZERO_SCORE,
} from '../../../src/domain/community/score.ts'
import { compileScore, validateScoreConfig } from '../../../src/domain/community/score-config.ts'
import { DAY } from '../../../src/domain/conditions/duration.ts'

// Half-life 7 days, thresholds 5 and 10, the default points (Topic Created 8,
// Post Created 6, Post Liked 1).
const cfg = compileScore({
  half_life: '7d',
  points: { 'Topic Created': 8, 'Post Created': 6, 'Post Liked': 1 },
  thresholds: [10, 5],
})
const H = 7 * DAY

describe('decay against a hand-computed table', () => {
  it('matches every row', () => {
    const clock = new FakeClock('2026-01-01T00:00:00Z')
    const t0 = clock.now().getTime()
    const day = (d: number) => new Date(t0 + d * DAY)
    let s: ScoreState = ZERO_SCORE
    const rows: [string, number][] = []
    const read = (label: string, d: number) => rows.push([label, scoreAt(s, day(d), H)])

    s = applyEvent(cfg, s, 'Topic Created', day(0)).state //  day 0: 0 + 8 = 8
    read('day 0', 0) //                                          8
    read('day 3.5', 3.5) //                                      8 · 2^-0.5 = 5.656854…
    read('day 7', 7) //                                          8 · 2^-1 = 4
    s = applyEvent(cfg, s, 'Post Created', day(7)).state //  day 7: 4 + 6 = 10
    read('day 7 after post', 7) //                              10
    read('day 14', 14) //                                        10 · 2^-1 = 5
    s = applyEvent(cfg, s, 'Post Liked', day(14)).state //   day 14: 5 + 1 = 6
    read('day 21', 21) //                                        6 · 2^-1 = 3
    read('day 28', 28) //                                        6 · 2^-2 = 1.5
    read('day 84', 84) //                                        6 · 2^-10 = 0.005859375
    s = applyEvent(cfg, s, 'Page Viewed', day(84)).state //  no points: state unchanged
    expect(s).toEqual({ value: 6, at: day(14) })

    const expected: [string, number][] = [
      ['day 0', 8],
      ['day 3.5', 8 / Math.SQRT2],
      ['day 7', 4],
      ['day 7 after post', 10],
      ['day 14', 5],
      ['day 21', 3],
      ['day 28', 1.5],
      ['day 84', 0.005859375],
    ]
    expect(rows.map(([l]) => l)).toEqual(expected.map(([l]) => l))
    rows.forEach(([, v], i) => {
      expect(v).toBeCloseTo(expected[i]![1], 12)
    })
  })

  it('emits Score Crossed up and down on the thresholds', () => {
    const t0 = new Date('2026-01-01T00:00:00Z').getTime()
    const day = (d: number) => new Date(t0 + d * DAY)
    // day 0: 0 → 8 crosses 5 up
    const a = applyEvent(cfg, ZERO_SCORE, 'Topic Created', day(0))
    expect(a.events.map((e) => e.properties)).toEqual([{ threshold: 5, direction: 'up', score: 8 }])
    // day 7: 4 + 6 = 10 reaches 10 (at the threshold counts as crossed). Measured from the
    // stored 8, the dip below 5 that no decay timer reported is netted out: no event.
    const b = applyEvent(cfg, a.state, 'Post Created', day(7))
    expect(b.events.map((e) => e.properties)).toEqual([{ threshold: 10, direction: 'up', score: 10 }])
    // Decay timer: 10 goes below 5 after 7·log2(10/5) = 7 days, first ms strictly below.
    // The 10 threshold was at the stored value: the timer is for 10, at day 7 + 1 ms.
    const due10 = nextDownCrossingAt(cfg, b.state)
    expect(due10?.getTime()).toBe(day(7).getTime() + 1)
    const c = applyDecay(cfg, b.state, due10!)
    expect(c.events.map((e) => [e.properties.threshold, e.properties.direction])).toEqual([[10, 'down']])
    // Next, 5: 9.99999… · 2^(-dt/7d) < 5 after 7 days: day 14 (+ at most 1 ms of rounding)
    const due5 = nextDownCrossingAt(cfg, c.state)!
    expect(Math.abs(due5.getTime() - day(14).getTime())).toBeLessThanOrEqual(1)
    const d = applyDecay(cfg, c.state, due5)
    expect(d.events.map((e) => [e.properties.threshold, e.properties.direction])).toEqual([[5, 'down']])
    expect(nextDownCrossingAt(cfg, d.state)).toBeNull()
    // The timer delivered twice reports nothing more.
    expect(applyDecay(cfg, d.state, due5).events).toEqual([])
  })

  it('orders crossings the way a member passes them', () => {
    expect(crossings(0, 12, [10, 5, 20])).toEqual([
      { threshold: 5, direction: 'up' },
      { threshold: 10, direction: 'up' },
    ])
    expect(crossings(25, 4, [10, 5, 20])).toEqual([
      { threshold: 20, direction: 'down' },
      { threshold: 10, direction: 'down' },
      { threshold: 5, direction: 'down' },
    ])
    expect(crossings(10, 10, [10])).toEqual([])
  })

  it('counts a late event as if it had arrived in order', () => {
    const t0 = Date.parse('2026-01-01T00:00:00Z')
    // In order: +8 at day 0, +6 at day 7 → 4 + 6 = 10 at day 7.
    // Late: +6 at day 7 stored first, then +8 from day 0 arrives: 6 + 8·2^-1 = 10.
    const late = addPoints(addPoints(ZERO_SCORE, 6, new Date(t0 + 7 * DAY), H), 8, new Date(t0), H)
    expect(late).toEqual({ value: 10, at: new Date(t0 + 7 * DAY) })
  })

  it('does not let a clock that went back raise the score', () => {
    const s = { value: 10, at: new Date('2026-01-10T00:00:00Z') }
    expect(scoreAt(s, new Date('2026-01-01T00:00:00Z'), H)).toBe(10)
  })

  it('stops penalties at zero', () => {
    const p = compileScore({ half_life: '7d', points: { 'Post Flagged': -5 }, thresholds: [] })
    expect(applyEvent(p, { value: 3, at: new Date(0) }, 'Post Flagged', new Date(0)).state.value).toBe(0)
  })
})

describe('score configuration', () => {
  it('rejects a half-life of zero or less, and duplicate or non-positive thresholds', () => {
    const r = validateScoreConfig({
      half_life: '0d',
      points: { 'Topic Created': 8 },
      thresholds: [10, 10, 0],
    })
    expect(r.ok ? [] : r.issues).toEqual([
      {
        path: 'half_life',
        message: 'half_life must be longer than zero: with no half-life every score would be 0 at once',
      },
      { path: 'thresholds[2]', message: 'a threshold must be above zero: a score never goes below 0' },
      { path: 'thresholds[1]', message: 'duplicate threshold 10' },
    ])
    const neg = validateScoreConfig({ half_life: -5, points: {}, thresholds: [10] })
    expect(neg.ok ? [] : neg.issues.map((i) => i.path)).toEqual(['half_life'])
    const dup = validateScoreConfig({ half_life: '30d', points: {}, thresholds: [10, 10] })
    expect(dup.ok ? [] : dup.issues).toEqual([{ path: 'thresholds[1]', message: 'duplicate threshold 10' }])
  })
})

describe('score properties', () => {
  const events = fc.array(
    fc.record({ points: fc.integer({ min: 0, max: 50 }), at: fc.integer({ min: 0, max: 365 * DAY }) }),
    { maxLength: 40 },
  )

  it('is never negative with non-negative points, in any arrival order', () => {
    fc.assert(
      fc.property(events, fc.integer({ min: 0, max: 400 * DAY }), (evs, readAt) => {
        let s: ScoreState = ZERO_SCORE
        for (const e of evs) s = addPoints(s, e.points, new Date(e.at), H)
        return scoreAt(s, new Date(readAt), H) >= 0
      }),
    )
  })

  it('equals the sum of each event’s decayed points, whatever the arrival order', () => {
    fc.assert(
      fc.property(events, (evs) => {
        const end = 366 * DAY
        let s: ScoreState = ZERO_SCORE
        for (const e of evs) s = addPoints(s, e.points, new Date(e.at), H)
        const exact = evs.reduce((sum, e) => sum + e.points * 2 ** (-(end - e.at) / H), 0)
        return Math.abs(scoreAt(s, new Date(end), H) - exact) <= 1e-9 * Math.max(1, exact)
      }),
    )
  })

  it('only decays between events', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 1e6, noNaN: true }),
        fc.integer({ min: 0, max: 100 * DAY }),
        fc.integer({ min: 0, max: 100 * DAY }),
        (value, d1, d2) => {
          const s = { value, at: new Date(0) }
          const [a, b] = d1 <= d2 ? [d1, d2] : [d2, d1]
          return (
            scoreAt(s, new Date(b), H) <= scoreAt(s, new Date(a), H) && scoreAt(s, new Date(a), H) <= value
          )
        },
      ),
    )
  })
})
