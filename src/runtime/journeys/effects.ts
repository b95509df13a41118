// Applies what one advance of the engine decided, inside the caller's transaction: the
// run's new state, its timers, the messages it queues, profile updates, the events it
// emits and its trace. Every write is keyed, so a retried transaction repeats nothing.
import { addPoints } from '../../domain/community/score.ts'
import { DEFAULT_SCORE_CONFIG } from '../../domain/community/score-config.ts'
import { durationMs } from '../../domain/conditions/duration.ts'
import type { Effect } from '../../domain/journeys/effects.ts'
import type { AdvanceResult } from '../../domain/journeys/engine.ts'
import type { Journey } from '../../domain/journeys/types.ts'
import { loadBadges, loadScore, saveBadge, saveScore } from '../../store/community.ts'
import type { Tx } from '../../store/db.ts'
import { enqueueMessages, type NewMessage } from '../../store/messages.ts'
import { insertTrace, saveRun } from '../../store/runs.ts'
import { cancelTimers, type NewTimer, scheduleTimers, type TimerKey } from '../../store/timers.ts'
import { creditConversion } from '../../store/tracking.ts'

export const JOURNEY_TIMER = 'journey'

const HALF_LIFE_MS = durationMs(DEFAULT_SCORE_CONFIG.half_life)

/** How effects reach the profile: through the processor in a hook, directly from a timer. */
export interface EffectIO {
  /** Emits an internal event for the run's profile; `key` makes its messageId deterministic. */
  emit(event: string, properties: Readonly<Record<string, unknown>>, key: string): Promise<void>
  /** Merges traits (null removes one), as identify does. */
  updateTraits(changes: Readonly<Record<string, unknown>>): Promise<void>
  /** The profile's traits as they are now. */
  traits(): Readonly<Record<string, unknown>>
}

export interface JourneyTimerPayload extends Record<string, unknown> {
  readonly runId: string
  readonly journeyId: string
  readonly version: number
}

export async function applyAdvance(
  tx: Tx,
  workspaceId: string,
  journey: Journey,
  result: AdvanceResult,
  now: Date,
  io: EffectIO,
): Promise<void> {
  const { run } = result
  await saveRun(tx, workspaceId, run)
  const schedule: NewTimer[] = []
  const cancel: TimerKey[] = []
  const messages: NewMessage[] = []
  for (const e of result.effects) {
    switch (e.type) {
      case 'schedule_timer':
        schedule.push({
          workspaceId,
          profileId: run.profileId,
          timerId: e.timerId,
          kind: JOURNEY_TIMER,
          fireAt: e.at,
          payload: { runId: e.runId, journeyId: run.journeyId, version: run.version, purpose: e.purpose },
        })
        break
      case 'cancel_timer':
        cancel.push({ workspaceId, profileId: run.profileId, timerId: e.timerId })
        break
      case 'send':
        messages.push({
          workspaceId,
          profileId: e.profileId,
          messageId: e.idempotencyKey,
          journeyId: e.journeyId,
          runId: e.runId,
          stepId: e.stepId,
          channel: e.channel,
          template: e.template,
          payload: {
            from: e.from,
            replyTo: e.replyTo,
            plainText: e.plainText,
            transactional: e.transactional,
            journeyName: journey.name,
            event: run.triggerEvent,
          },
          notBefore: now,
          createdAt: now,
        })
        break
      case 'update_profile':
        await updateProfile(tx, workspaceId, e, now, io)
        break
      case 'emit_event':
        await io.emit(e.name, e.properties, e.idempotencyKey)
        break
      default: {
        const never: never = e
        throw new Error(`unknown effect ${(never as Effect).type}`)
      }
    }
  }
  await cancelTimers(tx, cancel)
  await scheduleTimers(tx, schedule)
  await enqueueMessages(tx, messages)
  // The conversion is attributed to the last message, in the same transaction as the run.
  if (run.status === 'converted')
    await creditConversion(tx, workspaceId, run.profileId, run.id, run.endedAt ?? now)
  await insertTrace(tx, workspaceId, run.profileId, result.trace)
}

async function updateProfile(
  tx: Tx,
  workspaceId: string,
  e: Extract<Effect, { type: 'update_profile' }>,
  now: Date,
  io: EffectIO,
): Promise<void> {
  const changes: Record<string, unknown> = { ...e.set }
  for (const k of e.unset) changes[k] = null
  if (e.addTags.length || e.removeTags.length) {
    // Tags live in the `tags` trait as a sorted set of strings.
    const current = io.traits()['tags']
    const tags = new Set(Array.isArray(current) ? current.filter((t) => typeof t === 'string') : [])
    for (const t of e.addTags) tags.add(t)
    for (const t of e.removeTags) tags.delete(t)
    changes['tags'] = [...tags].sort()
  }
  if (Object.keys(changes).length) await io.updateTraits(changes)
  if (e.points) {
    const before = (await loadScore(tx, workspaceId, e.profileId)) ?? { value: 0, at: now }
    await saveScore(
      tx,
      workspaceId,
      e.profileId,
      addPoints(before, e.points, now, HALF_LIFE_MS),
      HALF_LIFE_MS,
    )
  }
  if (e.badge) {
    const held = (await loadBadges(tx, workspaceId, e.profileId)).get(e.badge)
    if (!held || held.revokedAt) {
      await saveBadge(tx, workspaceId, e.profileId, {
        badge: e.badge,
        count: 1,
        firstAwardedAt: now,
        lastAwardedAt: now,
        revokedAt: null,
      })
      await io.emit(
        'Badge Awarded',
        { badge: e.badge, badge_name: e.badge, occurrence: 1, rule: 'journey' },
        `${e.idempotencyKey}/badge`,
      )
    }
  }
}
