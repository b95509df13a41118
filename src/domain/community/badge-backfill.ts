// Backfill: when a rule is created, which members already earned the badge, and when.
// Pure: given one profile's past events (and stage history, for stage rules), it replays
// them in time order and returns the awards with the time each was earned.
import { evaluate, stageMatches } from '../conditions/evaluate.ts'
import type { ConditionContext, EventFacts } from '../conditions/types.ts'
import type { BadgeRule } from './badge-rules.ts'
import { awardEvent, type BadgeAward, eventMatches, type HeldBadge } from './badges.ts'
import { addPoints, type ScoreState, ZERO_SCORE } from './score.ts'
import type { CompiledScore } from './score-config.ts'

export interface StageHistoryEntry {
  readonly stage: string
  readonly at: Date
}

export interface BackfillInput {
  /** The profile's past events, any order. */
  readonly events: readonly EventFacts[]
  /** Stage entries in any order (stage rules). */
  readonly stageHistory?: readonly StageHistoryEntry[]
  /** Needed by score rules: the score is replayed from the events. */
  readonly score?: CompiledScore
  /** The profile now: condition rules can only be judged at present. */
  readonly ctx: ConditionContext
  readonly held?: HeldBadge
}

/**
 * Event rules award at each matching event (the first only, unless repeatable); count
 * rules at the N-th, 2N-th... matching event; score rules at the first event after which
 * the replayed score reached the minimum; stage rules at the first entry into that stage or
 * a later one. A condition cannot be replayed (traits and segments have no history), so a
 * condition rule is judged now. Awards already held are not repeated (a repeatable badge
 * resumes after the occurrences held, so a backfill that runs while new events are being
 * awarded live counts each event once); a revoked badge gets nothing back.
 */
export function backfill(rule: BadgeRule, input: BackfillInput): BadgeAward[] {
  const have = input.held?.count ?? 0
  if (input.held?.revokedAt || (have > 0 && !rule.repeatable)) return []
  const limit = rule.repeatable ? Number.POSITIVE_INFINITY : 1
  const events = [...input.events].sort((a, b) => a.timestamp.getTime() - b.timestamp.getTime())
  const times: Date[] = []
  const w = rule.when
  switch (w.type) {
    case 'event':
    case 'count': {
      const every = w.type === 'count' ? w.count : 1
      let n = 0
      for (const e of events) {
        if (times.length >= limit) break
        if (!eventMatches(w, e)) continue
        // As at run time, a badge's own `Badge Awarded` never counts for its rule (no loop).
        if (e.name === 'Badge Awarded' && e.properties['badge'] === rule.id) continue
        n++
        if (n % every === 0) times.push(e.timestamp)
      }
      break
    }
    case 'score': {
      if (!input.score) throw new Error('backfilling a score badge needs the score configuration')
      let s: ScoreState = ZERO_SCORE
      for (const e of events) {
        s = addPoints(s, input.score.points.get(e.name ?? '') ?? 0, e.timestamp, input.score.halfLifeMs)
        if (s.value >= w.min) {
          times.push(e.timestamp)
          break
        }
      }
      break
    }
    case 'stage': {
      const first = [...(input.stageHistory ?? [])]
        .sort((a, b) => a.at.getTime() - b.at.getTime())
        .find((h) => stageMatches('gte', h.stage, w.stage, input.ctx.stages))
      if (first) times.push(first.at)
      break
    }
    case 'condition':
      if (evaluate(w.condition, input.ctx)) times.push(input.ctx.now)
      break
    default: {
      const never: never = w
      return never
    }
  }
  // A repeatable badge already held `have` times resumes after those occurrences.
  return times.slice(have).map((at, i) => awardEvent(rule, have + i + 1, at, true))
}
