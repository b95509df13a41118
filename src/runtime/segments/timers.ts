// The segments' timers. A recheck fires when time alone may change a profile's answer
// ("inactive for 30 days" turns true 30 days after the last event): it re-evaluates that
// segment and those built on it, emits the changes, and moves itself to the next such
// time. A backfill computes a new or changed segment's members one page of profiles
// per firing, then schedules the next page; it emits no `Segment Entered`/`Exited`
// (a new segment's first members did not just do anything).
import { segmentsAffectedBy } from '../../domain/segments/affected.ts'
import { membershipEvent } from '../../domain/segments/membership.ts'
import type { Segment } from '../../domain/segments/types.ts'
import type { Tx } from '../../store/db.ts'
import { emitProfileEvents } from '../../store/profile-events.ts'
import {
  type BackfillPayload,
  backfillTimerId,
  conditionVersion,
  listSegments,
  NO_PROFILE,
  profileIdsAfter,
  SEGMENT_BACKFILL_TIMER,
  SEGMENT_RECHECK_TIMER,
} from '../../store/segments.ts'
import { scheduleTimers } from '../../store/timers.ts'
import type { TimerHandler } from '../scheduler.ts'
import { applyOutcomes, evaluateProfile, evaluateProfiles, orderedSegments } from './refresh.ts'

/** Profiles evaluated per backfill firing (one transaction). */
export const BACKFILL_PAGE = 250

/** A segment and the segments built on it, dependencies first. */
async function withDependents(tx: Tx, workspaceId: string, segmentId: string): Promise<Segment[] | null> {
  const all = await orderedSegments(tx, workspaceId)
  const segment = all.find((s) => s.id === segmentId)
  if (!segment) return null
  return [segment, ...segmentsAffectedBy({ segments: [segmentId] }, all)]
}

const onRecheck: TimerHandler = async (tx, timer, now) => {
  const ws = timer.workspaceId
  const segmentId = String(timer.payload['segment'])
  const targets = await withDependents(tx, ws, segmentId)
  if (!targets) return // the segment was deleted
  const result = await evaluateProfile(tx, ws, timer.profileId, targets, now)
  if (!result) return // the profile was erased
  await applyOutcomes(tx, ws, [{ profileId: timer.profileId, outcomes: result.outcomes }], now, segmentId)
  await emitProfileEvents(
    tx,
    result.outcomes.flatMap((o) =>
      o.change
        ? [
            {
              workspaceId: ws,
              profileId: timer.profileId,
              messageId: `nudge:segments:${o.segment.id}:${o.change}:${timer.timerId}:${timer.fireAt.toISOString()}`,
              name: membershipEvent(o.change),
              properties: { segment: o.segment.id, name: o.segment.name },
              at: now,
              source: 'segments',
            },
          ]
        : [],
    ),
  )
  const own = result.outcomes.find((o) => o.segment.id === segmentId)
  return own?.recheckAt ? { postponeTo: own.recheckAt } : undefined
}

const onBackfill: TimerHandler = async (tx, timer, now) => {
  const ws = timer.workspaceId
  const p = timer.payload as unknown as BackfillPayload
  const current = (await listSegments(tx, ws)).find((s) => s.segment.id === p.segment)
  // Deleted or changed since: a newer backfill (if any) does the work.
  if (!current || conditionVersion(current.segment) !== p.version) return
  const targets = await withDependents(tx, ws, p.segment)
  if (!targets) return
  const ids = await profileIdsAfter(tx, ws, p.after, BACKFILL_PAGE)
  await applyOutcomes(tx, ws, await evaluateProfiles(tx, ws, ids, targets, now), now)
  const last = ids.at(-1)
  if (ids.length === BACKFILL_PAGE && last) {
    const next: BackfillPayload = { ...p, after: last }
    await scheduleTimers(tx, [
      {
        workspaceId: ws,
        profileId: NO_PROFILE,
        timerId: backfillTimerId(p.segment, last),
        kind: SEGMENT_BACKFILL_TIMER,
        fireAt: now,
        payload: { ...next },
      },
    ])
  }
  return undefined
}

export const segmentTimers: Readonly<Record<string, TimerHandler>> = {
  [SEGMENT_RECHECK_TIMER]: onRecheck,
  [SEGMENT_BACKFILL_TIMER]: onBackfill,
}
