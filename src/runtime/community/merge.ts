// Two profiles merged into one (identify, alias): the community state of the absorbed one
// moves into the survivor, in the transaction of the event that merged them. The stage
// further in the funnel is kept (domain/community/merge.ts), scores add up, badges
// combine, histories join, and the reports' rollups count the person once. The survivor
// is then evaluated as after a configuration change, which sets its timers again.
import { keptStage, mergedBadge, mergedScore } from '../../domain/community/merge.ts'
import { loadScore, loadStageState, saveBadge, saveScore, saveStageOutcome } from '../../store/community.ts'
import {
  adjustCohorts,
  dropMemberState,
  loadBadgeRecords,
  moveCommunityRows,
  recordDeparture,
} from '../../store/community-merge.ts'
import {
  type RollupWrites,
  remapRollupWrites,
  takeRollupWrites,
  writeRollups,
} from '../../store/community-rollups.ts'
import type { Queryable } from '../../store/db.ts'
import { roundCacheOf } from '../../store/round-cache.ts'
import { DECAY_TIMER, RECHECK_TIMER, STUCK_TIMER, scheduleDecay } from './member.ts'
import type { CommunitySettings } from './settings.ts'

const TIMER_KINDS = [STUCK_TIMER, RECHECK_TIMER, DECAY_TIMER]

export async function absorbMember(
  q: Queryable,
  s: CommunitySettings,
  ws: string,
  source: string,
  target: string,
  now: Date,
  writes: RollupWrites,
): Promise<void> {
  // What the round gathered so far for the two is written first: a first entry of this
  // round is then among the rows the merge compares, and the earlier one wins, instead of
  // coming after them and losing to a stored later one (another worker's clock behind).
  // The other members' rows stay gathered, for the round's one write at its end.
  await writeRollups(q, takeRollupWrites(writes, ws, [source, target]))
  // Cohorts: both members' counts out, rows moved, the one person's counts back in.
  await adjustCohorts(q, ws, [source, target], -1)
  await moveCommunityRows(q, ws, source, target)
  await adjustCohorts(q, ws, [target], 1)

  const { kept, dropped } = keptStage(
    s.stages,
    await loadStageState(q, ws, target),
    await loadStageState(q, ws, source),
  )
  if (dropped) await recordDeparture(q, ws, dropped.stage, now)
  if (kept)
    await saveStageOutcome(
      q,
      ws,
      target,
      { state: kept, transitions: [], recheckAt: null, stuckAt: null },
      writes,
    )

  const score = mergedScore(
    await loadScore(q, ws, target),
    await loadScore(q, ws, source),
    s.score.halfLifeMs,
  )
  if (score) {
    await saveScore(q, ws, target, score, s.score.halfLifeMs)
    await q.query(
      `UPDATE profile_scores t SET last_active_at = greatest(t.last_active_at, s.last_active_at)
       FROM profile_scores s WHERE t.workspace_id = $1 AND t.profile_id = $3 AND s.workspace_id = $1 AND s.profile_id = $2`,
      [ws, source, target],
    )
  }

  const theirs = await loadBadgeRecords(q, ws, source)
  if (theirs.size) {
    const mine = await loadBadgeRecords(q, ws, target)
    for (const b of theirs.values()) {
      const own = mine.get(b.badge)
      const next = own ? mergedBadge(own, b) : b
      await saveBadge(q, ws, target, next, next.revokedBy)
    }
  }
  await dropMemberState(q, ws, source)

  // The absorbed member's timers go; the survivor's stuck timer is set again by the
  // evaluation that follows (its entry may be the absorbed one's now).
  await q.query(
    `DELETE FROM timers WHERE workspace_id = $1
       AND ((profile_id = $2 AND kind = ANY($4::text[])) OR (profile_id = $3 AND kind = $5))`,
    [ws, source, target, TIMER_KINDS, STUCK_TIMER],
  )
  if (score) await scheduleDecay(q, s, ws, target, score)
  remapRollupWrites(writes, ws, source, target)
  // Rows moved by hand above: the round's next reads of both take them anew.
  const round = roundCacheOf(q)
  round?.forget(ws, target)
  round?.forget(ws, source)
}
