// SQL of date and schedule triggers: the timer that sets a published journey up, the
// profiles a backfill reads page by page, the timezones members live in, and the set-based
// fan-out of a cron occurrence to the members of one timezone (and segment).
import {
  scheduleEntryTimerId,
  TIME_TRIGGER_TIMERS,
  triggerSetupTimerId,
} from '../domain/journeys/time-trigger.ts'
import type { Queryable } from './db.ts'
import { TIMERS_CHANNEL } from './timers.ts'

/** Timers that belong to a journey rather than to a member are filed under this profile id. */
export const NO_PROFILE = '00000000-0000-0000-0000-000000000000'

/**
 * When the live version of a journey has a date or schedule trigger, queues the timer
 * that sets it up on a worker. Due at once whatever the clock says (the epoch).
 */
export async function requestTriggerSetup(
  tx: Queryable,
  workspaceId: string,
  journeyId: string,
): Promise<void> {
  await tx.query(
    `INSERT INTO timers (workspace_id, profile_id, timer_id, kind, fire_at, payload)
     SELECT j.workspace_id, $3::uuid, $5, $4, 'epoch',
            jsonb_build_object('journeyId', j.journey_id, 'version', j.live_version)
     FROM journeys j JOIN journey_versions v
       ON v.workspace_id = j.workspace_id AND v.journey_id = j.journey_id AND v.version = j.live_version
     WHERE j.workspace_id = $1 AND j.journey_id = $2 AND j.status = 'published'
       AND v.definition -> 'trigger' ->> 'type' IN ('date', 'schedule')
     ON CONFLICT (workspace_id, profile_id, timer_id) DO UPDATE
       SET fire_at = EXCLUDED.fire_at, payload = EXCLUDED.payload, lease_owner = NULL, lease_until = NULL,
           attempts = 0, last_error = NULL`,
    [workspaceId, journeyId, NO_PROFILE, TIME_TRIGGER_TIMERS.setup, triggerSetupTimerId(journeyId)],
  )
  await tx.query(`SELECT pg_notify('${TIMERS_CHANNEL}', '')`)
}

export interface TraitHolder {
  readonly profileId: string
  readonly traits: Readonly<Record<string, unknown>>
  readonly timezone: string | null
}

/** One page of the profiles that have `trait`, in profile id order after `afterProfileId`. */
export async function profilesWithTrait(
  db: Queryable,
  workspaceId: string,
  trait: string,
  afterProfileId: string | null,
  limit: number,
): Promise<TraitHolder[]> {
  const rows = await db.query<{
    profile_id: string
    traits: Record<string, unknown>
    timezone: string | null
  }>(
    `SELECT profile_id, traits, timezone FROM profiles
     WHERE workspace_id = $1 AND merged_into IS NULL AND traits ? $2 AND jsonb_typeof(traits -> $2) <> 'null'
       AND ($3::uuid IS NULL OR profile_id > $3::uuid)
     ORDER BY profile_id LIMIT $4`,
    [workspaceId, trait, afterProfileId, limit],
  )
  return rows.map((r) => ({ profileId: r.profile_id, traits: r.traits, timezone: r.timezone }))
}

/** The timezones members of a workspace are in (null: not known). */
export async function profileTimezones(db: Queryable, workspaceId: string): Promise<Array<string | null>> {
  const rows = await db.query<{ timezone: string | null }>(
    'SELECT DISTINCT timezone FROM profiles WHERE workspace_id = $1 AND merged_into IS NULL',
    [workspaceId],
  )
  return rows.map((r) => r.timezone)
}

export interface ScheduleFanOut {
  readonly workspaceId: string
  readonly journeyId: string
  readonly version: number
  readonly occurrence: Date
  /** Members of these timezones; null: every member whatever their timezone. */
  readonly timezones: readonly string[] | null
  /** Also members whose timezone is unknown. */
  readonly withUnknownTimezone: boolean
  readonly segment: string | null
}

/**
 * Queues one entry timer per member of the occurrence, in one statement. The occurrence is
 * in the timer id, so doing it again for the same occurrence adds nothing. Returns how many.
 */
export async function fanOutScheduleEntries(db: Queryable, f: ScheduleFanOut): Promise<number> {
  const at = f.occurrence.toISOString()
  const rows = await db.query<{ n: number }>(
    `WITH added AS (
       INSERT INTO timers (workspace_id, profile_id, timer_id, kind, fire_at, payload)
       SELECT p.workspace_id, p.profile_id, $4, $5, $6::timestamptz,
              jsonb_build_object('journeyId', $2::text, 'version', $3::int, 'occurrence', $6::text)
       FROM profiles p
       WHERE p.workspace_id = $1 AND p.merged_into IS NULL
         AND ($7::text[] IS NULL OR p.timezone = ANY($7::text[]) OR ($8 AND p.timezone IS NULL))
         AND ($9::text IS NULL OR EXISTS (
           SELECT 1 FROM segment_members m
           WHERE m.workspace_id = p.workspace_id AND m.profile_id = p.profile_id AND m.segment_id = $9))
       ON CONFLICT (workspace_id, profile_id, timer_id) DO NOTHING
       RETURNING 1
     ) SELECT count(*)::int AS n FROM added`,
    [
      f.workspaceId,
      f.journeyId,
      f.version,
      scheduleEntryTimerId(f.journeyId, f.occurrence),
      TIME_TRIGGER_TIMERS.entry,
      at,
      f.timezones,
      f.withUnknownTimezone,
      f.segment,
    ],
  )
  if ((rows[0]?.n ?? 0) > 0) await db.query(`SELECT pg_notify('${TIMERS_CHANNEL}', '')`)
  return rows[0]?.n ?? 0
}
