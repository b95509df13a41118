// Channel name → module. Adding a channel is adding a file and a line here.
import type { ErrorIssue } from '../domain/errors.ts'
import { emailChannel } from './email.ts'
import { inAppChannel } from './in_app.ts'
import { pushChannel } from './push.ts'
import { smsChannel } from './sms.ts'
import type { ChannelDeps, ChannelModule, ChannelName, ChannelSender } from './types.ts'
import { webhookChannel } from './webhook.ts'

export const channelModules: Readonly<Partial<Record<ChannelName, ChannelModule<unknown>>>> = {
  email: emailChannel as ChannelModule<unknown>,
  webhook: webhookChannel as ChannelModule<unknown>,
  sms: smsChannel as ChannelModule<unknown>,
  push: pushChannel as ChannelModule<unknown>,
  in_app: inAppChannel as ChannelModule<unknown>,
}

export type OpenResult =
  | { readonly ok: true; readonly channel: ChannelSender }
  | { readonly ok: false; readonly issues: readonly ErrorIssue[] }

/** Validates a raw config and opens the channel; a wrong config comes back as issues. */
export function openChannel(name: string, rawConfig: unknown, deps: ChannelDeps): OpenResult {
  const module = channelModules[name as ChannelName]
  if (!module) return { ok: false, issues: [{ path: 'channel', message: `unknown channel "${name}"` }] }
  const v = module.validateConfig(rawConfig)
  if (!v.ok)
    return { ok: false, issues: v.issues.map((i) => ({ ...i, path: i.path ? `${name}.${i.path}` : name })) }
  return { ok: true, channel: module.open(v.config, deps) }
}
