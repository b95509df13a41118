// One message handed to a channel opened for it alone, then closed: a test send from the
// admin API, which has no dispatcher's channel pool. Every problem comes back as a result.
import { openChannel } from '../../channels/registry.ts'
import type { ChannelName, InAppInbox, OutgoingMessage, SendResult } from '../../channels/types.ts'
import type { Clock } from '../../domain/clock.ts'

export interface SendOnceOptions {
  readonly channel: ChannelName
  /** The workspace's saved config, else the server's default; undefined: not configured. */
  readonly config: unknown
  readonly clock: Clock
  /** Where the local mailbox lives; absent on a server without one. */
  readonly dataDir?: string
  readonly inAppInbox: InAppInbox
  readonly timeoutMs?: number
}

export async function sendOnce(o: SendOnceOptions, message: OutgoingMessage): Promise<SendResult> {
  const { channel, config } = o
  if (config === undefined)
    return {
      ok: false,
      kind: 'misconfigured',
      reason: `the ${channel} channel is not configured for this workspace (PUT /api/v1/channels/${channel})`,
    }
  if (channel === 'email' && !(config as { url?: unknown }).url && !o.dataDir)
    return {
      ok: false,
      kind: 'misconfigured',
      reason: 'this server has no local mailbox; set NUDGE_SMTP_URL',
    }
  const opened = openChannel(channel, config, {
    clock: o.clock,
    dataDir: o.dataDir ?? '',
    inAppInbox: o.inAppInbox,
  })
  if (!opened.ok)
    return {
      ok: false,
      kind: 'misconfigured',
      reason: `the ${channel} channel config is invalid: ${opened.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
    }
  try {
    return await opened.channel.send(message, { signal: AbortSignal.timeout(o.timeoutMs ?? 30_000) })
  } finally {
    await opened.channel.close()
  }
}
