// The processor's work queue: partitions of the events log leased to one worker at a
// time, pending events read in seq order, and their outcome written back in batches.
//
// An event is, as a status derived from its columns:
//   pending      processed_at IS NULL (retry_at set while it waits to be retried)
//   processed    processed_at set, process_error NULL, profile_id set
//   dead-letter  processed_at set, process_error set, profile_id NULL
// pending → processed | pending (retry) → … → processed | dead-letter.
import type { StoredEvent } from '../domain/events/types.ts'
import type { Queryable } from './db.ts'
import { EVENTS_CHANNEL, EVENTS_INSERT } from './events.ts'
import { jsonRows } from './json-rows.ts'
import { COUNTERS_UPSERT, PROFILES_UPDATE } from './profiles/write.ts'

const iso = (d: Date) => d.toISOString()

/**
 * Leases up to `limit` partitions that have a due pending event and whose lease is free
 * or expired, least recently worked first (so a busy partition cannot starve the
 * others). Runs as the first statement of a processing transaction: the rows stay
 * locked until it commits, and SKIP LOCKED makes other workers pass over them instead of
 * waiting. A partition whose oldest pending event waits for a retry is not due; one
 * leased to someone else until later is respected.
 */
export async function claimPartitions(
  tx: Queryable,
  workerId: string,
  limit: number,
  now: Date,
  leaseUntil: Date,
): Promise<number[]> {
  const rows = await tx.query<{ partition: number }>(
    `WITH ready AS (
       SELECT p.partition FROM processor_partitions p
       CROSS JOIN LATERAL (
         SELECT e.retry_at FROM events e
         WHERE e.partition = p.partition AND e.processed_at IS NULL
         ORDER BY e.seq LIMIT 1
       ) head
       WHERE (p.lease_owner IS NULL OR p.lease_owner = $1 OR p.lease_until < $2)
         AND (head.retry_at IS NULL OR head.retry_at <= $2)
       ORDER BY p.lease_until, p.partition
       LIMIT $3
       FOR UPDATE OF p SKIP LOCKED
     )
     UPDATE processor_partitions p SET lease_owner = $1, lease_until = $4
     FROM ready WHERE p.partition = ready.partition
     RETURNING p.partition`,
    [workerId, iso(now), limit, iso(leaseUntil)],
  )
  return rows.map((r) => r.partition)
}

/** Releases leases; `lease_until` keeps the release time, which orders the next claims. */
export async function releasePartitions(
  q: Queryable,
  partitions: readonly number[] | 'all',
  workerId: string,
  now: Date,
): Promise<void> {
  await q.query(
    `UPDATE processor_partitions SET lease_owner = NULL, lease_until = $3
     WHERE lease_owner = $2 AND ($1::jsonb IS NULL OR partition IN (SELECT jsonb_array_elements_text($1::jsonb)::smallint))`,
    [partitions === 'all' ? null : JSON.stringify(partitions), workerId, iso(now)],
  )
}

export interface PendingEvent extends StoredEvent {
  readonly attempts: number
  readonly retryAt: Date | null
}

type EventRow = {
  workspace_id: string
  seq: number
  message_id: string
  type: StoredEvent['type']
  name: string | null
  user_id: string | null
  anonymous_id: string | null
  partition: number
  timestamp: Date
  received_at: Date
  payload: Record<string, unknown>
  attempts: number
  retry_at: Date | null
}

/**
 * The oldest pending events of these partitions, in seq order (the order the log was
 * written): wherever the limit cuts, each partition gets a prefix of its queue.
 */
export async function pendingEvents(
  tx: Queryable,
  partitions: readonly number[],
  limit: number,
): Promise<PendingEvent[]> {
  const rows = await tx.query<EventRow>(
    `SELECT workspace_id, seq, message_id, type, name, user_id, anonymous_id, partition, timestamp, received_at,
            payload, attempts, retry_at
     FROM events
     WHERE partition IN (SELECT jsonb_array_elements_text($1::jsonb)::smallint) AND processed_at IS NULL
     ORDER BY seq LIMIT $2`,
    [JSON.stringify(partitions), limit],
  )
  return rows.map((r) => ({
    workspaceId: r.workspace_id,
    seq: Number(r.seq),
    messageId: r.message_id,
    type: r.type,
    name: r.name,
    userId: r.user_id,
    anonymousId: r.anonymous_id,
    partition: r.partition,
    timestamp: new Date(r.timestamp),
    receivedAt: new Date(r.received_at),
    payload: r.payload,
    profileId: null,
    processedAt: null,
    attempts: r.attempts,
    retryAt: r.retry_at ? new Date(r.retry_at) : null,
  }))
}

export interface ProcessedEvent {
  readonly workspaceId: string
  readonly seq: number
  readonly profileId: string
}

/**
 * What a round gathered to write at its end, written by finishRound in its statement:
 * follow-up events (eventRows) and profile fields and counters (profileSaveRows).
 */
export interface RoundTail {
  readonly events: string | null
  readonly profiles: { readonly profiles: string; readonly counters: string } | null
  /** Some follow-ups are appended pending: wake the processors. */
  readonly notify: boolean
}

/**
 * Ends a round in one statement: marks the events processed, with the profile each
 * belongs to, writes what the round gathered (`tail`), and releases the round's leases.
 */
export async function finishRound(
  tx: Queryable,
  done: readonly ProcessedEvent[],
  partitions: readonly number[],
  workerId: string,
  now: Date,
  tail: RoundTail | null = null,
): Promise<void> {
  await tx.query(
    // Each part touches rows no other part does: a data-modifying WITH runs whether or not
    // the statement reads it.
    `WITH marked AS (
       UPDATE events e SET processed_at = $2, profile_id = x.p, process_error = NULL, retry_at = NULL
       FROM ${jsonRows('$1', 'w text, s bigint, p uuid')}
       WHERE e.workspace_id = x.w AND e.seq = x.s
       RETURNING 1
     ),
     appended AS (${EVENTS_INSERT('$5')} RETURNING 1),
     saved AS (${PROFILES_UPDATE('$6', '$2')}),
     counted AS (${COUNTERS_UPSERT('$7')} RETURNING 1),
     released AS (
       UPDATE processor_partitions SET lease_owner = NULL, lease_until = $2
       WHERE lease_owner = $4 AND partition IN (SELECT jsonb_array_elements_text($3::jsonb)::smallint)
       RETURNING 1
     )
     SELECT CASE WHEN $8::boolean THEN pg_notify('${EVENTS_CHANNEL}', '') END`,
    [
      JSON.stringify(done.map((d) => ({ w: d.workspaceId, s: d.seq, p: d.profileId }))),
      iso(now),
      JSON.stringify(partitions),
      workerId,
      tail?.events ?? '[]',
      tail?.profiles?.profiles ?? '[]',
      tail?.profiles?.counters ?? '[]',
      tail?.notify === true,
    ],
  )
}

/**
 * Records a failed attempt. With `retryAt` the event stays pending (and holds its
 * partition back until then, keeping order); without, it is dead-lettered.
 */
export async function recordFailure(
  tx: Queryable,
  event: Pick<StoredEvent, 'workspaceId' | 'seq'>,
  error: string,
  retryAt: Date | null,
  now: Date,
): Promise<void> {
  await tx.query(
    `UPDATE events SET attempts = attempts + 1, process_error = $3, retry_at = $4,
       processed_at = CASE WHEN $4::timestamptz IS NULL THEN $5::timestamptz END
     WHERE workspace_id = $1 AND seq = $2`,
    [event.workspaceId, event.seq, error.slice(0, 2000), retryAt ? iso(retryAt) : null, iso(now)],
  )
}
