// The engagement score: points that halve every half-life. Stored as { value, at } and
// decayed on read, so it is exact at any moment with one row per profile and no sweeps:
// score(T) = Σ points_i · 2^(-(T - t_i) / halfLife) over the events before T.

import type { CommunityEvent } from './internal-event.ts'
import type { CompiledScore } from './score-config.ts'

export interface ScoreState {
  /** The score at `at`, before any decay since. */
  readonly value: number
  readonly at: Date
}

export const ZERO_SCORE: ScoreState = { value: 0, at: new Date(0) }

/**
 * The score at `now`. Reading before `at` (a clock that went back) returns the stored
 * value: the past cannot be rebuilt from one number, and the score must not grow.
 */
export function scoreAt(state: ScoreState, now: Date, halfLifeMs: number): number {
  const dt = now.getTime() - state.at.getTime()
  if (dt <= 0) return state.value
  return state.value * 2 ** (-dt / halfLifeMs)
}

/**
 * Adds points earned at `at`. An event older than the state (late delivery, import)
 * adds its points already decayed to the state's time, so the order in which events
 * arrive does not change the score. The score never goes below 0 (penalties stop there).
 */
export function addPoints(state: ScoreState, points: number, at: Date, halfLifeMs: number): ScoreState {
  if (at.getTime() >= state.at.getTime()) {
    return { value: Math.max(0, scoreAt(state, at, halfLifeMs) + points), at }
  }
  const late = points * 2 ** (-(state.at.getTime() - at.getTime()) / halfLifeMs)
  return { value: Math.max(0, state.value + late), at: state.at }
}

export interface Crossing {
  readonly threshold: number
  readonly direction: 'up' | 'down'
}

/**
 * Thresholds crossed going from `before` to `after`. A score equal to a threshold is at
 * it: up means before < t ≤ after, down means after < t ≤ before. Upward crossings are
 * listed lowest first, downward ones highest first, the order a member passes them.
 */
export function crossings(before: number, after: number, thresholds: readonly number[]): Crossing[] {
  const sorted = [...thresholds].sort((a, b) => a - b)
  if (after > before) {
    return sorted.filter((t) => before < t && t <= after).map((threshold) => ({ threshold, direction: 'up' }))
  }
  return sorted
    .filter((t) => after < t && t <= before)
    .reverse()
    .map((threshold) => ({ threshold, direction: 'down' }))
}

export interface ScoreCrossedProperties extends Record<string, unknown> {
  readonly threshold: number
  readonly direction: 'up' | 'down'
  readonly score: number
}

export interface ScoreUpdate {
  readonly state: ScoreState
  readonly points: number
  readonly events: readonly CommunityEvent<ScoreCrossedProperties>[]
}

function crossedEvents(before: number, after: number, cfg: CompiledScore, at: Date) {
  return crossings(before, after, cfg.thresholds).map(
    (c): CommunityEvent<ScoreCrossedProperties> => ({
      name: 'Score Crossed',
      timestamp: at,
      properties: { threshold: c.threshold, direction: c.direction, score: after },
    }),
  )
}

/**
 * Applies one event. Crossings are measured from the last stored value, not the decayed
 * one, so a downward crossing that decay caused since then and that no timer reported yet
 * is emitted now, and one already reported (the timer stored the decayed value) is not.
 */
export function applyEvent(cfg: CompiledScore, state: ScoreState, eventName: string, at: Date): ScoreUpdate {
  const points = cfg.points.get(eventName) ?? 0
  if (points === 0) return { state, points, events: [] }
  const next = addPoints(state, points, at, cfg.halfLifeMs)
  return { state: next, points, events: crossedEvents(state.value, next.value, cfg, next.at) }
}

/** A decay timer fired: store the decayed value and report the thresholds it went below. */
export function applyDecay(cfg: CompiledScore, state: ScoreState, now: Date): ScoreUpdate {
  if (now.getTime() <= state.at.getTime()) return { state, points: 0, events: [] }
  const value = scoreAt(state, now, cfg.halfLifeMs)
  return { state: { value, at: now }, points: 0, events: crossedEvents(state.value, value, cfg, now) }
}

/**
 * The first millisecond at which decay takes the score below the highest threshold it
 * is at or above, or null if it is below them all: when to set the decay timer.
 */
export function nextDownCrossingAt(cfg: CompiledScore, state: ScoreState): Date | null {
  const t = [...cfg.thresholds].reverse().find((x) => x <= state.value)
  if (t === undefined) return null
  let ms = Math.ceil(state.at.getTime() + cfg.halfLifeMs * Math.log2(state.value / t))
  // Floating point may land a millisecond early; step until the score is truly below.
  while (scoreAt(state, new Date(ms), cfg.halfLifeMs) >= t) ms++
  return new Date(ms)
}
