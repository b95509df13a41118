// The community model at run time, as a processor hook: each event updates the member's
// score, stage and badges in the batch transaction, and the resulting `Score Crossed`,
// `Stage Entered` and `Badge Awarded` events are appended to the log for journeys. The
// reports' rollups (transitions per day, cohorts, activity, content) are gathered over
// the round and written once at its end (flush).
import { CONTENT_EVENTS } from '../../domain/community/content.ts'
import type { Logger } from '../../log.ts'
import {
  gatherContent,
  newRollupWrites,
  type RollupWrites,
  writeRollups,
} from '../../store/community-rollups.ts'
import type { Tx } from '../../store/db.ts'
import { eventFactsOf, loadEventFacts, loadProfileFacts } from '../../store/profile-facts.ts'
import { type HookContext, type ProcessorHook, settleAll } from '../hooks.ts'
import { type EmitCommunity, evaluateMember, historyNames } from './member.ts'
import { absorbMember } from './merge.ts'
import { settingsOf } from './settings.ts'

export const COMMUNITY_HOOK = 'community'

/**
 * How many community events may follow one another from a single outside event. Stages
 * and score crossings end by themselves; badge rules on community events could chain
 * (a badge for any badge...), so past this depth the state is updated but nothing more
 * is emitted.
 */
export const MAX_CHAIN = 8

/** How many community events caused this one: follow-up messageIds nest their cause's. */
export function chainDepth(messageId: string): number {
  return messageId.split(`nudge:${COMMUNITY_HOOK}:`).length - 1
}

const CONTENT = new Set(CONTENT_EVENTS)

export function makeCommunityHook(log: Logger): ProcessorHook {
  const rounds = new WeakMap<Tx, RollupWrites>()
  const writesOf = (tx: Tx) => {
    let w = rounds.get(tx)
    if (!w) {
      w = newRollupWrites()
      rounds.set(tx, w)
    }
    return w
  }
  return {
    name: COMMUNITY_HOOK,
    async prefetch(tx, round) {
      // The settings first (they say which past events count), then what evaluateMember
      // reads, for every profile of the round at once (the round cache loads them all).
      await settleAll(
        [...round.profiles].map(async ([ws, ids]) => {
          const first = ids[0]
          if (!first) return
          const settings = await settingsOf(tx, ws)
          await settleAll([
            loadProfileFacts(tx, ws, first, round.now, settings.score.halfLifeMs),
            loadEventFacts(tx, ws, first, historyNames(settings)),
          ])
        }),
      )
    },
    async flush(tx: Tx) {
      const w = rounds.get(tx)
      if (w) await writeRollups(tx, w)
    },
    async onEvent(ctx: HookContext) {
      const { tx, event } = ctx
      const ws = event.workspaceId
      const writes = writesOf(tx)
      const settings = await settingsOf(tx, ws)
      if (event.type === 'track' && event.name && CONTENT.has(event.name))
        gatherContent(writes, ws, ctx.profile.profileId)
      const depth = chainDepth(event.messageId)
      const emit: EmitCommunity = async (e, key) => {
        if (depth >= MAX_CHAIN) {
          log.warn({ event: e.name, cause: event.messageId }, 'community event chain too long; not emitted')
          return
        }
        await ctx.emit({ event: e.name, properties: e.properties, key })
      }
      // Profiles this event merged into this one: their community state comes along first.
      const merged = ctx.profile.mergedProfileIds
      for (const source of merged)
        await absorbMember(tx, settings, ws, source, ctx.profile.profileId, ctx.now, writes)
      const props = (event.payload['properties'] ?? {}) as Record<string, unknown>
      await evaluateMember(
        tx,
        settings,
        {
          workspaceId: ws,
          profileId: ctx.profile.profileId,
          now: ctx.now,
          event: { ...eventFactsOf(event), messageId: event.messageId },
          traits: ctx.profile.traits,
          announcedBadge:
            event.name === 'Badge Awarded' && typeof props['badge'] === 'string' ? props['badge'] : null,
          // After a merge the survivor's timers are set again, as after a new funnel.
          reconfigured: merged.length > 0,
        },
        emit,
        writes,
      )
    },
  }
}
