// Writes what became of a message, in one transaction: its status and reason on the
// message log, the event journeys react to (Message Sent / Failed / Bounced), and a line
// in the run's trace. The event's messageId is derived from the message, so a retried
// transaction emits nothing twice.
import type { Verdict } from '../../domain/guards/types.ts'
import type { TraceEntry } from '../../domain/journeys/trace.ts'
import type { Tx } from '../../store/db.ts'
import { emitProfileEvents, type ProfileEvent } from '../../store/events.ts'
import { type MessageStatus, messageKey, type QueuedMessage, settleMessages } from '../../store/messages.ts'
import { insertTraces } from '../../store/runs.ts'
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
  tx: Tx,
  m: QueuedMessage,
  o: MessageOutcome,
  now: Date,
): Promise<boolean> {
  return (await recordOutcomes(tx, [{ message: m, outcome: o, now }])).size > 0
}

export interface OutcomeToRecord {
  readonly message: QueuedMessage
  readonly outcome: MessageOutcome
  readonly now: Date
}

/**
 * recordOutcome for many messages, with one statement per table; answers the messageKey
 * of each message recorded (not those whose lease was lost).
 */
export async function recordOutcomes(tx: Tx, items: readonly OutcomeToRecord[]): Promise<Set<string>> {
  const settled = await settleMessages(
    tx,
    items.map(({ message, outcome: o, now }) => ({
      message,
      update: {
        status: o.status,
        at: now,
        reason: o.reason,
        ...(o.error !== undefined ? { error: o.error } : {}),
        ...(o.notBefore ? { notBefore: o.notBefore } : {}),
        ...(o.countAttempt ? { countAttempt: true } : {}),
        ...(o.verdicts ? { verdicts: o.verdicts } : {}),
        ...(o.providerId ? { providerId: o.providerId } : {}),
      },
    })),
  )
  const recorded = items.filter((i) => settled.has(messageKey(i.message)))
  const events: ProfileEvent[] = []
  const traces: Array<{ workspaceId: string; profileId: string; entries: TraceEntry[] }> = []
  for (const { message: m, outcome: o, now } of recorded) {
    if (o.event) {
      events.push({
        workspaceId: m.workspaceId,
        profileId: m.profileId,
        messageId: `nudge:message:${m.messageId}:${o.event}`,
        event: MESSAGE_EVENTS[o.event],
        properties: {
          ...messageProperties(m),
          ...(o.event === 'sent' ? { provider_id: o.providerId ?? null } : { reason: o.reason }),
        },
        at: now,
      })
    }
    if (m.runId && m.journeyId) {
      traces.push({
        workspaceId: m.workspaceId,
        profileId: m.profileId,
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
  await emitProfileEvents(tx, events, { notify: false })
  await insertTraces(tx, traces)
  return settled
}
