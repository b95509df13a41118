import { expect, it } from 'vitest'
import { keptStage, mergedBadge, mergedScore } from '../../../src/domain/community/merge.ts'
import { compileStages } from '../../../src/domain/community/stage-config.ts'
import { DEFAULT_STAGE_CONFIG } from '../../../src/domain/community/stage-defaults.ts'

const stages = compileStages(DEFAULT_STAGE_CONFIG)
const d = (n: number) => new Date(Date.UTC(2026, 2, 1 + n))
const entry = (stage: string, day: number, extra = {}) => ({
  stage,
  enteredAt: d(day),
  demotionPendingSince: null,
  stuckNotifiedAt: null,
  ...extra,
})

it('keeps the stage further in the funnel, then the longer stay, then the survivor', () => {
  expect(keptStage(stages, entry('visitor', 1), entry('member', 5))).toEqual({
    kept: entry('member', 5),
    dropped: entry('visitor', 1),
  })
  expect(keptStage(stages, entry('member', 5), entry('member', 2)).kept).toEqual(entry('member', 2))
  const [mine, theirs] = [entry('member', 2), entry('member', 2)]
  expect(keptStage(stages, mine, theirs).kept).toBe(mine)
  // A stage no longer in the funnel ranks below every stage.
  expect(keptStage(stages, entry('visitor', 9), entry('guru', 0)).kept?.stage).toBe('visitor')
  // The entry is kept whole: a stuck notice already sent is not sent again.
  const notified = entry('member', 3, { stuckNotifiedAt: d(17) })
  expect(keptStage(stages, entry('prospect', 1), notified).kept).toEqual(notified)
  expect(keptStage(stages, null, entry('visitor', 0))).toEqual({ kept: entry('visitor', 0), dropped: null })
})

it('adds both scores, decayed to the later time', () => {
  // 10 at day 0 and 4 at day 10, half-life 10 days: 10 · 1/2 + 4 = 9 at day 10.
  expect(mergedScore({ value: 10, at: d(0) }, { value: 4, at: d(10) }, 10 * 86_400_000)).toEqual({
    value: 9,
    at: d(10),
  })
  expect(mergedScore(null, { value: 4, at: d(10) }, 1)).toEqual({ value: 4, at: d(10) })
})

it('combines a badge held twice, the latest decision deciding revocation', () => {
  const held = (first: number, last: number, count = 1) => ({
    badge: 'helper',
    count,
    firstAwardedAt: d(first),
    lastAwardedAt: d(last),
    revokedAt: null,
    revokedBy: null,
  })
  expect(mergedBadge(held(2, 4, 2), held(1, 1))).toEqual(held(1, 4, 3))
  const revoked = { ...held(1, 1), revokedAt: d(6), revokedBy: 'mod' }
  // Revoked after the other copy's last award: stays revoked.
  expect(mergedBadge(held(2, 4), revoked)).toMatchObject({ revokedAt: d(6), revokedBy: 'mod', count: 2 })
  // Earned again after the revocation: held.
  expect(mergedBadge(held(2, 8), revoked)).toMatchObject({ revokedAt: null, revokedBy: null })
  const later = { ...held(0, 0), revokedAt: d(9), revokedBy: 'admin' }
  expect(mergedBadge(revoked, later)).toMatchObject({ revokedAt: d(9), revokedBy: 'admin' })
})
