// Engagement score configuration: points per event name, a half-life, and the thresholds
// whose crossing (either way) emits `Score Crossed`. Defaults follow crowd.dev's activity
// weights (a new topic 8, a reply 6, joining 3, a like 1) and Orbit's decaying "love".
import { z } from 'zod'
import { durationMs } from '../conditions/duration.ts'
import type { DurationText } from '../conditions/types.ts'
import { zodIssues } from './issues.ts'
import { positiveDuration, type ValidationResult } from './stage-config.ts'

export interface ScoreConfig {
  readonly half_life: DurationText | number
  /** Points per event name; events not listed are worth nothing. May be negative (penalties). */
  readonly points: Readonly<Record<string, number>>
  readonly thresholds: readonly number[]
}

export interface CompiledScore {
  readonly halfLifeMs: number
  readonly points: ReadonlyMap<string, number>
  /** Ascending, distinct. */
  readonly thresholds: readonly number[]
}

export const DEFAULT_SCORE_CONFIG: ScoreConfig = {
  half_life: '30d',
  points: {
    'Event Organized': 10,
    'Content Published': 10,
    'Answer Accepted': 8,
    'Topic Created': 8,
    'Post Created': 6,
    'Event Attended': 5,
    'Member Invited': 4,
    'Signed Up': 3,
    'Webinar Registered': 2,
    'Post Liked': 1,
    'Newsletter Subscribed': 1,
  },
  thresholds: [25, 50, 100, 200],
}

export const scoreConfigSchema = z
  .strictObject({
    half_life: positiveDuration(
      'half_life must be longer than zero: with no half-life every score would be 0 at once',
    ),
    points: z.record(z.string().min(1), z.number().finite().min(-1_000_000).max(1_000_000)),
    thresholds: z.array(
      z.number().finite().positive('a threshold must be above zero: a score never goes below 0'),
    ),
  })
  .superRefine((c, ctx) => {
    const seen = new Set<number>()
    c.thresholds.forEach((t, i) => {
      if (seen.has(t))
        ctx.addIssue({ code: 'custom', path: ['thresholds', i], message: `duplicate threshold ${t}` })
      seen.add(t)
    })
  })

export function validateScoreConfig(input: unknown): ValidationResult<CompiledScore> {
  const parsed = scoreConfigSchema.safeParse(input)
  if (!parsed.success) {
    return { ok: false, issues: zodIssues(parsed.error) }
  }
  return { ok: true, value: compileScore(parsed.data) }
}

/** Trusts its input: call validateScoreConfig first for anything that came from outside. */
export function compileScore(config: ScoreConfig): CompiledScore {
  return {
    halfLifeMs: durationMs(config.half_life),
    points: new Map(Object.entries(config.points)),
    thresholds: [...new Set(config.thresholds)].sort((a, b) => a - b),
  }
}
