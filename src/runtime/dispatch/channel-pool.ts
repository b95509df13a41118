// Opened channels per workspace, kept open between messages (the SMTP pool lives in the
// email sender) and reopened when the workspace's stored config changes. Email falls back
// to the process-wide settings (NUDGE_SMTP_URL, else the local mailbox), in-app needs none.
import { emailConfigFromEnv } from '../../channels/email.ts'
import { openChannel } from '../../channels/registry.ts'
import type { ChannelDeps, ChannelSender } from '../../channels/types.ts'
import type { ErrorIssue } from '../../domain/errors.ts'

export type PoolResult =
  | { readonly ok: true; readonly channel: ChannelSender }
  | { readonly ok: false; readonly reason: string; readonly issues: readonly ErrorIssue[] }

export interface ChannelPool {
  /** `stored` is the workspace's saved config for this channel, if any. */
  get(workspaceId: string, channel: string, stored: unknown): PoolResult
  close(): Promise<void>
}

/** What a workspace that saved no config gets: email from the environment, in-app as is. */
export function channelDefaults(
  env: Readonly<Record<string, string | undefined>>,
): Readonly<Record<string, unknown>> {
  return { email: emailConfigFromEnv(env), in_app: {} }
}

/**
 * The stored config with the SMS status callback pointing at this Nudge when the workspace
 * set none, so delivery reports arrive without configuration.
 */
export function withDeliveryReports(
  channel: string,
  stored: unknown,
  publicUrl: string,
  workspaceId: string,
): unknown {
  if (channel !== 'sms' || !stored || typeof stored !== 'object' || 'statusCallbackUrl' in stored)
    return stored
  return {
    ...stored,
    statusCallbackUrl: `${publicUrl.replace(/\/$/, '')}/sms/status/${encodeURIComponent(workspaceId)}`,
  }
}

export function makeChannelPool(
  deps: ChannelDeps,
  env: Readonly<Record<string, string | undefined>>,
): ChannelPool {
  const open = new Map<string, { json: string; result: PoolResult }>()
  const defaults = channelDefaults(env)
  return {
    get(workspaceId, channel, stored) {
      const raw = stored ?? defaults[channel]
      const key = `${workspaceId}\u0000${channel}`
      const json = JSON.stringify(raw ?? null)
      const hit = open.get(key)
      if (hit && hit.json === json) return hit.result
      if (hit?.result.ok) void hit.result.channel.close()
      let result: PoolResult
      if (raw === undefined) {
        result = {
          ok: false,
          reason: `the ${channel} channel is not configured for this workspace (PUT /api/v1/channels/${channel})`,
          issues: [],
        }
      } else {
        const opened = openChannel(channel, raw, deps)
        result = opened.ok
          ? opened
          : {
              ok: false,
              reason: `the ${channel} channel config is invalid: ${opened.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
              issues: opened.issues,
            }
      }
      open.set(key, { json, result })
      return result
    },
    async close() {
      for (const { result } of open.values()) if (result.ok) await result.channel.close()
      open.clear()
    },
  }
}
