// Writes what became of a message, in one transaction: its status and reason on the
// message log, the event journeys react to (Message Sent / Failed / Bounced), and a line
// in the run's trace. The event's messageId is derived from the message, so a retried
// transaction emits nothing twice.
import type { NewEvent } from '../../domain/events/types.ts'
import type { Verdict } from '../../domain/guards/types.ts'
import type { TraceEntry } from '../../domain/journeys/trace.ts'
import type { Queryable } from '../../store/db.ts'
import {
  EVENTS_CHANNEL,
  EVENTS_INSERT,
  type EventIdentity,
  eventIdentities,
  eventRows,
  profileEventRow,
} from '../../store/events.ts'
import {
  type MessageStatus,
  messageKey,
  type QueuedMessage,
  SETTLE_UPDATE,
  settleRows,
} from '../../store/messages.ts'
import { TRACE_INSERT, traceRows } from '../../store/runs.ts'
import { messageProperties } from '../../store/tracking.ts'

export const MESSAGE_EVENTS = {
  sent: 'Message Sent',
  failed: 'Message Failed',
  bounced: 'Message Bounced',
} as const
export type MessageEventKind = keyof typeof MESSAGE_EVENTS

export interface MessageOutcome {
  readonly status: MessageStatus
  /** For the message log and the trace: why it has this status, in a sentence. */
  readonly reason: string
  readonly verdicts?: readonly Verdict[]
  readonly notBefore?: Date
  /** The rate-limit slot a message deferred for the limit holds (see MessageUpdate). */
  readonly rateSlot?: Date
  readonly countAttempt?: boolean
  /** The channel's last error (failed attempts). */
  readonly error?: string
  readonly providerId?: string
  readonly event?: MessageEventKind
}

/**
 * False when the lease was lost to another worker (nothing was written). The event is
 * written without NOTIFY (which would serialise concurrent commits): call notifyEvents()
 * after the commit.
 */
export async function recordOutcome(
  db: Queryable,
  m: QueuedMessage,
  o: MessageOutcome,
  now: Date,
): Promise<boolean> {
  return (await recordOutcomes(db, [{ message: m, outcome: o, now }])).size > 0
}

export interface OutcomeToRecord {
  readonly message: QueuedMessage
  readonly outcome: MessageOutcome
  readonly now: Date
  /** The identity the outcome's event carries, when the caller knows it (else it is looked up). */
  readonly identity?: EventIdentity | undefined
}

/**
 * recordOutcome for many messages, in one statement: the messages settled, and for those
 * whose lease held, their events and trace entries; answers the messageKey of each message
 * recorded (not those whose lease was lost). With `notify`, the statement wakes the
 * processors when it appended an event (at its commit, so alone it needs no transaction).
 */
export async function recordOutcomes(
  db: Queryable,
  items: readonly OutcomeToRecord[],
  opts: { readonly notify?: boolean } = {},
): Promise<Set<string>> {
  if (items.length === 0) return new Set()
  const unknown = items.filter((i) => i.outcome.event && !i.identity).map((i) => i.message)
  const looked = unknown.length > 0 ? await eventIdentities(db, unknown) : undefined
  const settle = settleRows(
    items.map(({ message, outcome: o, now }) => ({
      message,
      update: {
        status: o.status,
        at: now,
        reason: o.reason,
        ...(o.error !== undefined ? { error: o.error } : {}),
        ...(o.notBefore ? { notBefore: o.notBefore } : {}),
        ...(o.rateSlot ? { rateSlotAt: o.rateSlot } : {}),
        ...(o.countAttempt ? { countAttempt: true } : {}),
        ...(o.verdicts ? { verdicts: o.verdicts } : {}),
        ...(o.providerId ? { providerId: o.providerId } : {}),
      },
    })),
  )
  const events: NewEvent[] = []
  const tags: Array<Record<string, string>> = []
  const traces: Array<{
    workspaceId: string
    profileId: string
    tag: Record<string, string>
    entries: TraceEntry[]
  }> = []
  for (const { message: m, outcome: o, now, identity } of items) {
    // Each row names its message: only those of messages settled are written.
    const tag = { sw: m.workspaceId, sp: m.profileId, sm: m.messageId }
    const id = identity ?? looked?.get(`${m.workspaceId}\u0000${m.profileId}`)
    if (o.event && id) {
      events.push(
        profileEventRow(
          {
            workspaceId: m.workspaceId,
            profileId: m.profileId,
            messageId: `nudge:message:${m.messageId}:${o.event}`,
            event: MESSAGE_EVENTS[o.event],
            properties: {
              ...messageProperties(m),
              ...(o.event === 'sent' ? { provider_id: o.providerId ?? null } : { reason: o.reason }),
            },
            at: now,
          },
          id,
        ),
      )
      tags.push(tag)
    }
    if (m.runId && m.journeyId) {
      traces.push({
        workspaceId: m.workspaceId,
        profileId: m.profileId,
        tag,
        entries: [
          {
            at: now,
            journeyId: m.journeyId,
            runId: m.runId,
            stepId: m.stepId,
            kind: 'message',
            message: `${m.channel}:${m.template} ${o.status === 'queued' ? 'waits' : o.status}: ${o.reason}`,
            data: {
              messageId: m.messageId,
              template: m.template,
              channel: m.channel,
              status: o.status,
              ...(o.notBefore ? { notBefore: o.notBefore.toISOString() } : {}),
              ...(o.verdicts ? { verdicts: o.verdicts } : {}),
            },
          },
        ],
      })
    }
  }
  // A row is written only for a message settled here (its lease held) whose member still
  // exists: the identity was read when the message was decided, and a member erased while
  // it was being sent must not come back through its delivery event (the key-share lock
  // waits for an erasure under way, and then sees the member gone).
  // The settled keys are looked up in one jsonb object (`keys`), not joined row by row: the
  // planner, expecting one settled row, joined them by a nested loop, 40,000 comparisons
  // for a batch of 200.
  const key = (w: string, p: string, m: string) => `jsonb_build_array(${w}, (${p})::text, ${m})::text`
  const ofSettled = (param: string) =>
    `(SELECT coalesce(jsonb_agg(x.r), '[]'::jsonb) FROM jsonb_array_elements(${param}::jsonb) AS x(r), keys k
      WHERE k.keys ? ${key("x.r ->> 'sw'", "(x.r ->> 'sp')::uuid", "x.r ->> 'sm'")}
      AND EXISTS (SELECT 1 FROM profiles p WHERE p.workspace_id = x.r ->> 'sw'
        AND p.profile_id = (x.r ->> 'sp')::uuid FOR KEY SHARE))`
  // The NOTIFY is made at this statement's commit: PostgreSQL then holds its notification
  // lock through that commit, where a NOTIFY of its own would be a second commit holding
  // it. A dispatcher has one settle in flight at a time.
  const rows = await db.query<{ workspace_id: string; profile_id: string; message_id: string }>(
    `WITH settled AS (${SETTLE_UPDATE('$1')}),
     keys AS (
       SELECT coalesce(jsonb_object_agg(${key('s.workspace_id', 's.profile_id', 's.message_id')}, true), '{}') AS keys
       FROM settled s
     ),
     appended AS (${EVENTS_INSERT(ofSettled('$2'))} RETURNING 1),
     traced AS (${TRACE_INSERT(ofSettled('$3'))} RETURNING 1),
     woken AS (
       SELECT pg_notify('${EVENTS_CHANNEL}', '') WHERE $4::boolean AND EXISTS (SELECT 1 FROM appended)
     )
     SELECT s.workspace_id, s.profile_id, s.message_id FROM settled s, (SELECT count(*) FROM woken) w`,
    [settle, eventRows(events, tags), traceRows(traces) ?? '[]', opts.notify === true],
  )
  return new Set(
    rows.map((r) =>
      messageKey({ workspaceId: r.workspace_id, profileId: r.profile_id, messageId: r.message_id }),
    ),
  )
}
