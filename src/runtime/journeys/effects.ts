// Applies what one advance of the engine decided, inside the caller's transaction: the
// run's new state, its timers, the messages it queues, profile updates, the events it
// emits and its trace. Every write is keyed, so a retried transaction repeats nothing.
import { addPoints } from '../../domain/community/score.ts'
import type { Effect } from '../../domain/journeys/effects.ts'
import type { AdvanceResult } from '../../domain/journeys/engine.ts'
import type { Journey } from '../../domain/journeys/types.ts'
import { loadBadges, loadScore, saveBadge, saveScore } from '../../store/community.ts'
import type { Tx } from '../../store/db.ts'
import { MESSAGES_INSERT, messageRows, type NewMessage, OUTBOX_CHANNEL } from '../../store/messages.ts'
import { RUNS_UPSERT, runRows, TRACE_INSERT, traceRows } from '../../store/runs.ts'
import { cancelTimers, type NewTimer, scheduleTimers, type TimerKey } from '../../store/timers.ts'
import { creditConversion } from '../../store/tracking.ts'
import { settingsOf } from '../community/settings.ts'

export const JOURNEY_TIMER = 'journey'

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

/**
 * The writes of one or more advances, gathered so that each table gets one multi-row
 * statement (writeAdvances). Profile updates are not gathered: they are read back by
 * the next effect of the same run (tags, score, badges), so they happen at once.
 */
export interface AdvanceWrites {
  readonly runs: Array<{ readonly workspaceId: string; readonly run: AdvanceResult['run'] }>
  readonly schedule: NewTimer[]
  readonly cancel: TimerKey[]
  readonly messages: NewMessage[]
  readonly trace: Array<{
    readonly workspaceId: string
    readonly profileId: string
    readonly entries: AdvanceResult['trace']
  }>
}

export function newAdvanceWrites(): AdvanceWrites {
  return { runs: [], schedule: [], cancel: [], messages: [], trace: [] }
}

/**
 * Writes gathered advances: timers first (cancels before schedules), then runs, messages
 * and trace together in one statement, with the outbox NOTIFY when a message was queued.
 */
export async function writeAdvances(tx: Tx, w: AdvanceWrites): Promise<void> {
  await cancelTimers(tx, w.cancel)
  await scheduleTimers(tx, w.schedule)
  if (w.runs.length === 0 && w.messages.length === 0 && w.trace.length === 0) return
  await tx.query(
    `WITH runs AS (${RUNS_UPSERT('$1')}),
          trace AS (${TRACE_INSERT('$2')}),
          queued AS (${MESSAGES_INSERT('$3')} RETURNING 1)
     SELECT CASE WHEN count(*) > 0 THEN pg_notify('${OUTBOX_CHANNEL}', '') END FROM queued`,
    [runRows(tx, w.runs), traceRows(w.trace) ?? '[]', messageRows(w.messages)],
  )
}

export async function applyAdvance(
  tx: Tx,
  workspaceId: string,
  journey: Journey,
  result: AdvanceResult,
  now: Date,
  io: EffectIO,
): Promise<void> {
  const writes = newAdvanceWrites()
  await recordAdvance(tx, workspaceId, journey, result, now, io, writes)
  await writeAdvances(tx, writes)
}

/** Adds one advance's writes to `writes`; profile updates and emits go through `io` at once. */
export async function recordAdvance(
  tx: Tx,
  workspaceId: string,
  journey: Journey,
  result: AdvanceResult,
  now: Date,
  io: EffectIO,
  writes: AdvanceWrites,
): Promise<void> {
  const { run } = result
  writes.runs.push({ workspaceId, run })
  const { schedule, cancel, messages } = writes
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
  // The conversion is attributed to the run's last message that went out: one sent in an
  // earlier round or chunk, so it is already in the table the deferred writes do not touch.
  if (run.status === 'converted')
    await creditConversion(tx, workspaceId, run.profileId, run.id, run.endedAt ?? now)
  if (result.trace.length) writes.trace.push({ workspaceId, profileId: run.profileId, entries: result.trace })
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
    const halfLifeMs = (await settingsOf(tx, workspaceId)).score.halfLifeMs
    const before = (await loadScore(tx, workspaceId, e.profileId)) ?? { value: 0, at: now }
    await saveScore(tx, workspaceId, e.profileId, addPoints(before, e.points, now, halfLifeMs), halfLifeMs)
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
