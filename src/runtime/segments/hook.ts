// Segments kept up to date as events are processed: each event re-evaluates the segments
// it can change (segmentsAffectedBy), writes the memberships and recheck timers, and
// appends `Segment Entered` / `Segment Exited`. It runs before the journeys hook, so
// journeys see the memberships this event produced.

import { isInternalEvent } from '../../domain/profiles/state.ts'
import type { ProfileChange } from '../../domain/segments/affected.ts'
import { segmentsAffectedBy } from '../../domain/segments/affected.ts'
import { membershipEvent } from '../../domain/segments/membership.ts'
import type { Segment } from '../../domain/segments/types.ts'
import type { Tx } from '../../store/db.ts'
import { eventFactsOf } from '../../store/profile-facts.ts'
import { dropProfileMemberships } from '../../store/segments.ts'
import type { HookContext, ProcessorHook } from '../hooks.ts'
import { applyOutcomes, evaluateProfile, orderedSegments, type PastEvent } from './refresh.ts'

export const SEGMENTS_HOOK = 'segments'

/** What one batch transaction remembers: definitions, and events not yet filed in the log. */
interface BatchState {
  readonly definitions: Map<string, Promise<Segment[]>>
  readonly recent: Map<string, PastEvent[]>
}

function traitPathsChanged(before: Record<string, unknown>, after: Record<string, unknown>): string[] {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)])
  return [...keys].filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]))
}

/** What this event changed, in the terms of segmentsAffectedBy. */
export function changeOf(ctx: HookContext): ProfileChange {
  const { event, profile } = ctx
  const internal = isInternalEvent(event)
  const badge = eventFactsOf(event).properties['badge']
  const badgeEvent = event.name === 'Badge Awarded' || event.name === 'Badge Revoked'
  return {
    event: event.name,
    traits: traitPathsChanged(profile.traitsBefore, profile.traits),
    lastSeen: !internal,
    firstSeen: profile.created,
    stage: event.name === 'Stage Entered',
    badges: badgeEvent && typeof badge === 'string' ? [badge] : [],
    // Points may come with any event the member makes; decay is the recheck's business.
    score: !internal || event.name === 'Score Crossed',
  }
}

export function makeSegmentsHook(): ProcessorHook {
  const batches = new WeakMap<Tx, BatchState>()
  const batchOf = (tx: Tx): BatchState => {
    let b = batches.get(tx)
    if (!b) {
      b = { definitions: new Map(), recent: new Map() }
      batches.set(tx, b)
    }
    return b
  }

  async function onEvent(ctx: HookContext): Promise<void> {
    const { tx, event, profile, now } = ctx
    const ws = event.workspaceId
    const batch = batchOf(tx)
    const key = `${ws}/${profile.profileId}`
    const recent = batch.recent.get(key) ?? []
    for (const gone of profile.mergedProfileIds) recent.push(...(batch.recent.get(`${ws}/${gone}`) ?? []))
    recent.push({ ...eventFactsOf(event), messageId: event.messageId })
    batch.recent.set(key, recent)

    let definitions = batch.definitions.get(ws)
    if (!definitions) {
      definitions = orderedSegments(tx, ws)
      batch.definitions.set(ws, definitions)
    }
    const all = await definitions
    if (all.length === 0) return

    // A new or merged profile: every segment may have changed.
    const merged = profile.mergedProfileIds.length > 0
    if (merged) await dropProfileMemberships(tx, ws, profile.mergedProfileIds)
    const affected = merged || profile.created ? all : segmentsAffectedBy(changeOf(ctx), all)
    if (affected.length === 0) return

    const result = await evaluateProfile(tx, ws, profile.profileId, affected, now, recent, {
      traits: profile.traits,
    })
    if (!result) return
    await applyOutcomes(tx, ws, [{ profileId: profile.profileId, outcomes: result.outcomes }], now)
    for (const o of result.outcomes) {
      if (!o.change) continue
      await ctx.emit({
        event: membershipEvent(o.change),
        properties: { segment: o.segment.id, name: o.segment.name },
        key: `${o.segment.id}:${o.change}`,
      })
    }
  }

  return { name: SEGMENTS_HOOK, onEvent }
}
