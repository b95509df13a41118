// Applies the config file's channel settings at start. The rule: the file's settings for a
// channel are written when they differ from what the file said when it was last applied (a
// checksum kept with the row), so restarting with the same file keeps what the admin API
// changed since, and changing the file's settings for a channel writes them again. A
// channel the file does not name is left as it is. Idempotent; safe for processes starting
// together.
import { createHash } from 'node:crypto'
import { channelModules } from '../channels/registry.ts'
import type { ChannelName } from '../channels/types.ts'
import type { ConfigFile } from '../config-file.ts'
import { NudgeError } from '../domain/errors.ts'
import { applyFileChannelConfig } from '../store/channel-configs.ts'
import type { Db } from '../store/db.ts'
import { getWorkspace } from '../store/workspaces.ts'

/** Canonical JSON (sorted keys), so the same settings always give the same checksum. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`
  if (value && typeof value === 'object')
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`
  return JSON.stringify(value)
}

export interface AppliedChannel {
  readonly workspaceId: string
  readonly channel: ChannelName
}

/** The channels written by this call; throws NUDGE_ERR_CONFIG for a workspace that does not exist. */
export async function applyConfigChannels(db: Db, file: ConfigFile, at: Date): Promise<AppliedChannel[]> {
  const applied: AppliedChannel[] = []
  const missing: string[] = []
  for (const id of Object.keys(file.workspaces)) if (!(await getWorkspace(db, id))) missing.push(id)
  if (missing.length > 0) {
    throw new NudgeError(
      'NUDGE_ERR_CONFIG',
      `Invalid configuration file ${file.path}:\n${missing.map((id) => `  workspaces.${id}: no such workspace`).join('\n')}`,
      missing.map((id) => ({ path: `${file.path} workspaces.${id}`, message: 'no such workspace' })),
    )
  }
  await db.transaction(async (tx) => {
    for (const [workspaceId, { channels }] of Object.entries(file.workspaces)) {
      for (const [channel, raw] of Object.entries(channels) as [ChannelName, Record<string, unknown>][]) {
        const checked = channelModules[channel]?.validateConfig(raw)
        // The file was checked when it was read; this fills the defaults the API would store.
        if (!checked?.ok) continue
        const checksum = createHash('sha256').update(canonical(raw)).digest('hex')
        const config = checked.config as Record<string, unknown>
        if (await applyFileChannelConfig(tx, workspaceId, channel, config, checksum, at))
          applied.push({ workspaceId, channel })
      }
    }
  })
  return applied
}
