// Two profiles found to be one person (identify, alias): what their community state
// becomes. Pure; the runtime moves the rows (runtime/community/merge.ts).
import type { HeldBadge } from './badges.ts'
import { addPoints, type ScoreState } from './score.ts'
import type { CompiledStages } from './stage-config.ts'
import type { StageState } from './stage-progress.ts'

/**
 * The stage the person keeps: the one further in the funnel (a stage no longer in the
 * funnel ranks below all), on a tie the longer stay, on a tie the survivor's. The entry
 * is kept whole (its time, pending demotion, stuck notice), so nobody skips a stage and
 * `Stage Stuck` still fires once per entry. `dropped` is the other one, if any.
 */
export function keptStage(
  stages: CompiledStages,
  survivor: StageState | null,
  absorbed: StageState | null,
): { readonly kept: StageState | null; readonly dropped: StageState | null } {
  if (!absorbed) return { kept: survivor, dropped: null }
  if (!survivor) return { kept: absorbed, dropped: null }
  const rank = (s: StageState) => stages.index.get(s.stage) ?? -1
  const absorbedWins =
    rank(absorbed) > rank(survivor) ||
    (rank(absorbed) === rank(survivor) && absorbed.enteredAt.getTime() < survivor.enteredAt.getTime())
  return absorbedWins ? { kept: absorbed, dropped: survivor } : { kept: survivor, dropped: absorbed }
}

/** Both scores decayed to the later of their times and added: the sum of all the points earned. */
export function mergedScore(
  a: ScoreState | null,
  b: ScoreState | null,
  halfLifeMs: number,
): ScoreState | null {
  if (!a) return b
  if (!b) return a
  return addPoints(a, b.value, b.at, halfLifeMs)
}

export interface HeldBadgeRecord extends HeldBadge {
  readonly revokedBy: string | null
}

/**
 * One badge held by both: the awards add up (the badge report's award count is kept), the
 * first and last award span both. Revocation follows the latest decision: revoked if the
 * latest revocation is not older than the last award of the copy still held.
 */
export function mergedBadge(a: HeldBadgeRecord, b: HeldBadgeRecord): HeldBadgeRecord {
  const base = {
    badge: a.badge,
    count: a.count + b.count,
    firstAwardedAt: new Date(Math.min(a.firstAwardedAt.getTime(), b.firstAwardedAt.getTime())),
    lastAwardedAt: new Date(Math.max(a.lastAwardedAt.getTime(), b.lastAwardedAt.getTime())),
  }
  const revoked = [a, b].filter((x) => x.revokedAt !== null)
  const held = [a, b].filter((x) => x.revokedAt === null)
  const latest = revoked.sort((x, y) => y.revokedAt!.getTime() - x.revokedAt!.getTime())[0]
  const lastHeld = Math.max(-Infinity, ...held.map((x) => x.lastAwardedAt.getTime()))
  if (latest && latest.revokedAt!.getTime() >= lastHeld)
    return { ...base, revokedAt: latest.revokedAt, revokedBy: latest.revokedBy }
  return { ...base, revokedAt: null, revokedBy: null }
}
