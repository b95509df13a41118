// Date and schedule triggers at run time. A date trigger keeps one timer per (journey,
// profile) at the next occurrence, moved by the processor hook when the date trait changes.
// A schedule trigger keeps one timer per (journey, timezone); at each occurrence it queues
// one entry timer per member of that timezone (and segment) in one statement, so members
// enter through the same leased, crash-safe timer queue as every other wake-up.

import type { ProfileFacts } from '../../domain/conditions/types.ts'
import type { JourneyEvent } from '../../domain/journeys/event.ts'
import { nextDateOccurrence, nextScheduleOccurrence } from '../../domain/journeys/occurrence.ts'
import {
  dateTimerId,
  memberTimezone,
  planDateTimer,
  type ScheduleTrigger,
  scheduleTimerId,
  TIME_TRIGGER_TIMERS,
  timeTriggerEvent,
  triggerSetupTimerId,
} from '../../domain/journeys/time-trigger.ts'
import type { Trigger } from '../../domain/journeys/types.ts'
import type { Tx } from '../../store/db.ts'
import { loadProfileFacts } from '../../store/profile-facts.ts'
import {
  fanOutScheduleEntries,
  NO_PROFILE,
  profilesWithTrait,
  profileTimezones,
} from '../../store/time-triggers.ts'
import { cancelTimers, type NewTimer, scheduleTimers, type TimerKey } from '../../store/timers.ts'
import { settingsOf } from '../community/settings.ts'
import type { HookContext } from '../hooks.ts'
import type { TimerHandler } from '../scheduler.ts'
import type { JourneyCatalog, LiveJourney } from './catalog.ts'

/** Starts a run of `live` for `profile` (entry rules apply); returns the traits after it. */
export type EnterAt = (
  tx: Tx,
  workspaceId: string,
  live: LiveJourney,
  profile: ProfileFacts,
  event: JourneyEvent,
  now: Date,
) => Promise<Readonly<Record<string, unknown>>>

export interface TimeTriggers {
  /** Moves date timers when a date trait changes; makes sure a new timezone has its schedule timer. */
  onEvent(ctx: HookContext, live: readonly LiveJourney[]): Promise<void>
  readonly timers: Readonly<Record<string, TimerHandler>>
}

/** Profiles read per backfill transaction; the next page is a timer of its own. */
const SETUP_PAGE = 2000
/** How long a worker trusts that a timezone's schedule timer exists before writing it again. */
const BUCKET_TTL_MS = 60_000

interface TimePayload {
  readonly journeyId: string
  readonly timezone?: string
  readonly cursor?: string
}

const later = (a: Date, b: Date) => (a.getTime() > b.getTime() ? a : b)

function dateTimer(workspaceId: string, profileId: string, journeyId: string, at: Date): NewTimer {
  return {
    workspaceId,
    profileId,
    timerId: dateTimerId(journeyId),
    kind: TIME_TRIGGER_TIMERS.date,
    fireAt: at,
    payload: { journeyId },
  }
}

function scheduleTimer(workspaceId: string, live: LiveJourney, timezone: string, now: Date): NewTimer | null {
  const trigger = live.journey.trigger as ScheduleTrigger
  const at = nextScheduleOccurrence(trigger, now, timezone)
  return (
    at && {
      workspaceId,
      profileId: NO_PROFILE,
      timerId: scheduleTimerId(live.journey.id, timezone),
      kind: TIME_TRIGGER_TIMERS.schedule,
      fireAt: at,
      payload: { journeyId: live.journey.id, timezone },
    }
  )
}

export function makeTimeTriggers(opts: { catalog: JourneyCatalog; enterAt: EnterAt }): TimeTriggers {
  const { catalog, enterAt } = opts
  const bucketsSeen = new Map<string, number>()

  /** The live journey a timer belongs to and its trigger, if it still has this kind of trigger. */
  async function liveFor<T extends 'date' | 'schedule'>(
    tx: Tx,
    workspaceId: string,
    journeyId: string,
    type: T,
  ) {
    const live = (await catalog.live(tx, workspaceId)).find((l) => l.journey.id === journeyId)
    const trigger = live?.journey.trigger
    return live && trigger?.type === type
      ? { live, trigger: trigger as Extract<Trigger, { type: T }> }
      : undefined
  }

  async function onEvent(ctx: HookContext, live: readonly LiveJourney[]): Promise<void> {
    const { tx, now, profile } = ctx
    const ws = ctx.event.workspaceId
    const schedule: NewTimer[] = []
    const cancel: TimerKey[] = []
    for (const l of live) {
      const trigger = l.journey.trigger
      const timezone = memberTimezone(l.journey, profile.timezone)
      if (trigger.type === 'date') {
        const plan = planDateTimer(trigger, profile.traitsBefore, profile.traits, now, timezone)
        switch (plan.kind) {
          case 'keep':
            break
          case 'schedule':
            schedule.push(dateTimer(ws, profile.profileId, l.journey.id, plan.at))
            break
          case 'cancel':
            cancel.push({ workspaceId: ws, profileId: profile.profileId, timerId: dateTimerId(l.journey.id) })
            break
          default: {
            const never: never = plan
            throw new Error(`unknown plan ${(never as { kind: string }).kind}`)
          }
        }
      } else if (trigger.type === 'schedule' && !trigger.timezone) {
        const key = `${ws}/${l.journey.id}/${l.version}/${timezone}`
        const seen = bucketsSeen.get(key)
        if (seen !== undefined && Math.abs(now.getTime() - seen) < BUCKET_TTL_MS) continue
        bucketsSeen.set(key, now.getTime())
        const timer = scheduleTimer(ws, l, timezone, now)
        // Only a timezone nobody had before needs a timer: an existing one keeps its time.
        if (timer) await scheduleTimers(tx, [timer], { keepExisting: true })
      }
    }
    await cancelTimers(tx, cancel)
    await scheduleTimers(tx, schedule)
  }

  const setup: TimerHandler = async (tx, timer, now) => {
    const p = timer.payload as unknown as TimePayload
    const ws = timer.workspaceId
    // Read the journeys again: the publish that queued this timer may be newer than the cache.
    catalog.invalidate()
    const live = (await catalog.live(tx, ws)).find((l) => l.journey.id === p.journeyId)
    if (!live) return
    const { journey } = live
    const trigger = journey.trigger
    if (trigger.type === 'date') {
      const page = await profilesWithTrait(tx, ws, trigger.trait, p.cursor ?? null, SETUP_PAGE)
      const timers = page.flatMap((h) => {
        const at = nextDateOccurrence(trigger, h.traits, now, memberTimezone(journey, h.timezone))
        return at ? [dateTimer(ws, h.profileId, journey.id, at)] : []
      })
      // A timer the processor already set (the trait changed meanwhile) is the newer one.
      await scheduleTimers(tx, timers, { keepExisting: true })
      const last = page.at(-1)
      if (page.length === SETUP_PAGE && last) {
        await scheduleTimers(tx, [
          {
            ...timer,
            timerId: triggerSetupTimerId(journey.id, last.profileId),
            payload: { ...timer.payload, cursor: last.profileId },
          },
        ])
      }
    } else if (trigger.type === 'schedule') {
      const zones = trigger.timezone
        ? [trigger.timezone]
        : [
            ...new Set([
              memberTimezone(journey, null),
              ...(await profileTimezones(tx, ws)).map((z) => memberTimezone(journey, z)),
            ]),
          ]
      // Replaces the timers of an earlier version: the cron may have changed.
      await scheduleTimers(
        tx,
        zones.flatMap((z) => scheduleTimer(ws, live, z, now) ?? []),
      )
    }
    return undefined
  }

  /** What the trigger's conditions see of the member, the score decayed by the workspace's half-life. */
  const memberFacts = async (tx: Tx, ws: string, profileId: string, now: Date) =>
    loadProfileFacts(tx, ws, profileId, now, (await settingsOf(tx, ws)).score.halfLifeMs)

  const date: TimerHandler = async (tx, timer, now) => {
    const ws = timer.workspaceId
    const found = await liveFor(tx, ws, (timer.payload as unknown as TimePayload).journeyId, 'date')
    if (!found) return
    const { live, trigger } = found
    const facts = await memberFacts(tx, ws, timer.profileId, now)
    if (!facts) return
    const timezone = memberTimezone(live.journey, facts.timezone)
    // The traits decide, not the timer: a stale timer moves to the right time or goes.
    const due = nextDateOccurrence(trigger, facts.traits, new Date(timer.fireAt.getTime() - 1), timezone)
    if (!due) return
    if (due.getTime() !== timer.fireAt.getTime()) return { postponeTo: due }
    const event = timeTriggerEvent(live.journey, trigger, due, timezone, facts.traits)
    const traits = await enterAt(tx, ws, live, facts, event, now)
    if (!trigger.repeat) return
    // Occurrences missed while no worker ran are not caught up one by one.
    const next = nextDateOccurrence(trigger, traits, later(timer.fireAt, now), timezone)
    return next ? { postponeTo: next } : undefined
  }

  const scheduled: TimerHandler = async (tx, timer, now) => {
    const ws = timer.workspaceId
    const p = timer.payload as unknown as TimePayload
    const found = await liveFor(tx, ws, p.journeyId, 'schedule')
    if (!found || !p.timezone) return
    const { live, trigger } = found
    const due = nextScheduleOccurrence(trigger, new Date(timer.fireAt.getTime() - 1), p.timezone)
    if (!due) return
    if (due.getTime() !== timer.fireAt.getTime()) return { postponeTo: due }
    await fanOutScheduleEntries(tx, {
      workspaceId: ws,
      journeyId: live.journey.id,
      version: live.version,
      occurrence: due,
      timezones: trigger.timezone ? null : [p.timezone],
      withUnknownTimezone: !trigger.timezone && p.timezone === memberTimezone(live.journey, null),
      segment: trigger.segment ?? null,
    })
    const next = nextScheduleOccurrence(trigger, later(timer.fireAt, now), p.timezone)
    return next ? { postponeTo: next } : undefined
  }

  const entry: TimerHandler = async (tx, timer, now) => {
    const ws = timer.workspaceId
    const found = await liveFor(tx, ws, (timer.payload as unknown as TimePayload).journeyId, 'schedule')
    if (!found) return
    const { live, trigger } = found
    const facts = await memberFacts(tx, ws, timer.profileId, now)
    if (!facts) return
    const timezone = trigger.timezone ?? memberTimezone(live.journey, facts.timezone)
    const event = timeTriggerEvent(live.journey, trigger, timer.fireAt, timezone, facts.traits)
    await enterAt(tx, ws, live, facts, event, now)
    return undefined
  }

  return {
    onEvent,
    timers: {
      [TIME_TRIGGER_TIMERS.setup]: setup,
      [TIME_TRIGGER_TIMERS.date]: date,
      [TIME_TRIGGER_TIMERS.schedule]: scheduled,
      [TIME_TRIGGER_TIMERS.entry]: entry,
    },
  }
}
