// The I/O around evaluateSegments, shared by the processor hook, the recheck timer and
// the backfill: load a profile's facts and the past events its segments count, then
// write the membership changes and recheck timers in the caller's transaction.
import { memoryHistory } from '../../domain/conditions/history.ts'
import { conditionRefs } from '../../domain/conditions/references.ts'
import type { EventFacts, ProfileFacts } from '../../domain/conditions/types.ts'
import { evaluateSegments, type SegmentOutcome, type SegmentsResult } from '../../domain/segments/evaluate.ts'
import { segmentOrder } from '../../domain/segments/order.ts'
import type { Segment } from '../../domain/segments/types.ts'
import type { Tx } from '../../store/db.ts'
import {
  loadEventFacts,
  loadEventFactsOfProfiles,
  loadProfileFacts,
  loadProfilesFacts,
} from '../../store/profile-facts.ts'
import {
  deleteMembers,
  insertMembers,
  listSegments,
  type Membership,
  scheduleRechecks,
} from '../../store/segments.ts'
import { type CommunitySettings, settingsOf } from '../community/settings.ts'

/** A workspace's segments, dependencies first. */
export async function orderedSegments(tx: Tx, workspaceId: string): Promise<Segment[]> {
  const all = (await listSegments(tx, workspaceId)).map((s) => s.segment)
  const sorted = segmentOrder(all)
  // Definitions are checked on save; an order problem here can only come from old data.
  return sorted.ok ? [...sorted.order] : all
}

export type PastEvent = EventFacts & { readonly messageId: string }

/** Event names the `performed` leaves of `segments` count. */
function countedEvents(segments: readonly Segment[]): string[] {
  const names = new Set<string>()
  for (const s of segments) for (const e of conditionRefs(s.condition).events) names.add(e)
  return [...names]
}

/** Stage conditions follow the workspace's funnel, score conditions its half-life. */
function evaluateWith(
  segments: readonly Segment[],
  profile: ProfileFacts,
  past: readonly PastEvent[],
  now: Date,
  community: CommunitySettings,
): SegmentsResult {
  return evaluateSegments(segments, {
    now,
    profile,
    history: memoryHistory(past),
    stages: community.stages.ids,
    recheck: { scoreHalfLifeMs: community.score.halfLifeMs },
  })
}

/**
 * Evaluates `segments` for one profile. `recent` are events of this profile not yet
 * filed under it in the log (the batch being processed); `profile` overrides facts
 * the caller knows better than the database.
 */
export async function evaluateProfile(
  tx: Tx,
  workspaceId: string,
  profileId: string,
  segments: readonly Segment[],
  now: Date,
  recent: readonly PastEvent[] = [],
  profile: Partial<ProfileFacts> = {},
): Promise<SegmentsResult | null> {
  const community = await settingsOf(tx, workspaceId)
  const facts = await loadProfileFacts(tx, workspaceId, profileId, now, community.score.halfLifeMs)
  if (!facts) return null
  const names = countedEvents(segments)
  const past = await loadEventFacts(tx, workspaceId, profileId, names)
  const seen = new Set(past.map((e) => e.messageId))
  for (const e of recent) if (names.includes(e.name ?? '') && !seen.has(e.messageId)) past.push(e)
  return evaluateWith(segments, { ...facts, ...profile }, past, now, community)
}

/** evaluateProfile for a page of profiles, in two statements (backfills). */
export async function evaluateProfiles(
  tx: Tx,
  workspaceId: string,
  profileIds: readonly string[],
  segments: readonly Segment[],
  now: Date,
): Promise<{ profileId: string; outcomes: readonly SegmentOutcome[] }[]> {
  const community = await settingsOf(tx, workspaceId)
  const facts = await loadProfilesFacts(tx, workspaceId, profileIds, now, community.score.halfLifeMs)
  const events = await loadEventFactsOfProfiles(tx, workspaceId, profileIds, countedEvents(segments))
  return [...facts.values()].map((f) => ({
    profileId: f.profileId,
    outcomes: evaluateWith(segments, f, events.get(f.profileId) ?? [], now, community).outcomes,
  }))
}

/**
 * Writes the outcomes of several profiles: members in and out, recheck timers set. A
 * timer no longer needed is left to fire: it finds nothing changed and ends, which costs
 * less than a delete on every event. A recheck timer that is firing is its handler's to
 * move (`firing`): writing it here would take it from under the scheduler.
 */
export async function applyOutcomes(
  tx: Tx,
  workspaceId: string,
  results: readonly { readonly profileId: string; readonly outcomes: readonly SegmentOutcome[] }[],
  now: Date,
  firing?: string,
): Promise<void> {
  const entered: Membership[] = []
  const exited: Membership[] = []
  const due: (Membership & { at: Date })[] = []
  for (const { profileId, outcomes } of results) {
    for (const o of outcomes) {
      const key = { profileId, segmentId: o.segment.id }
      if (o.change === 'entered') entered.push(key)
      else if (o.change === 'exited') exited.push(key)
      if (o.recheckAt && o.segment.id !== firing) due.push({ ...key, at: o.recheckAt })
    }
  }
  await insertMembers(tx, workspaceId, entered, now)
  await deleteMembers(tx, workspaceId, exited)
  await scheduleRechecks(tx, workspaceId, due)
}
