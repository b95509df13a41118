// Each workspace's channel settings (webhook URL and secret, Twilio account, VAPID keys,
// an SMTP server of its own), as checked by the channel's validateConfig before saving.
import type { Queryable } from './db.ts'

export interface StoredChannelConfig {
  readonly channel: string
  readonly config: Readonly<Record<string, unknown>>
  readonly updatedAt: Date
}

export async function putChannelConfig(
  db: Queryable,
  workspaceId: string,
  channel: string,
  config: Readonly<Record<string, unknown>>,
  at: Date,
): Promise<void> {
  await db.query(
    `INSERT INTO channel_configs (workspace_id, channel, config, updated_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT (workspace_id, channel) DO UPDATE SET config = EXCLUDED.config, updated_at = EXCLUDED.updated_at`,
    [workspaceId, channel, JSON.stringify(config), at.toISOString()],
  )
}

/** The stored configs of these workspaces, by workspace then channel. */
export async function channelConfigsOf(
  db: Queryable,
  workspaceIds: readonly string[],
): Promise<Map<string, Map<string, StoredChannelConfig>>> {
  const rows = await db.query<{
    workspace_id: string
    channel: string
    config: Record<string, unknown>
    updated_at: Date
  }>(
    'SELECT workspace_id, channel, config, updated_at FROM channel_configs WHERE workspace_id = ANY($1::text[])',
    [workspaceIds],
  )
  const out = new Map<string, Map<string, StoredChannelConfig>>()
  for (const r of rows) {
    const ws = out.get(r.workspace_id) ?? new Map<string, StoredChannelConfig>()
    out.set(r.workspace_id, ws)
    ws.set(r.channel, { channel: r.channel, config: r.config, updatedAt: r.updated_at })
  }
  return out
}

export async function getChannelConfig(
  db: Queryable,
  workspaceId: string,
  channel: string,
): Promise<StoredChannelConfig | undefined> {
  return (await channelConfigsOf(db, [workspaceId])).get(workspaceId)?.get(channel)
}

/**
 * Writes a channel's settings from the config file, unless the file's settings are the ones
 * written last time (`checksum`): then what the admin API saved since is kept. True when written.
 */
export async function applyFileChannelConfig(
  db: Queryable,
  workspaceId: string,
  channel: string,
  config: Readonly<Record<string, unknown>>,
  checksum: string,
  at: Date,
): Promise<boolean> {
  const rows = await db.query(
    `INSERT INTO channel_configs (workspace_id, channel, config, updated_at, file_checksum) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (workspace_id, channel) DO UPDATE
       SET config = EXCLUDED.config, updated_at = EXCLUDED.updated_at, file_checksum = EXCLUDED.file_checksum
       WHERE channel_configs.file_checksum IS DISTINCT FROM EXCLUDED.file_checksum
     RETURNING 1`,
    [workspaceId, channel, JSON.stringify(config), at.toISOString(), checksum],
  )
  return rows.length > 0
}
