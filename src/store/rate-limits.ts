// Channel rate limits (GCRA) shared by every worker: one atomic statement moves the
// channel's theoretical arrival time forward and returns it (docs/guards.md).
import type { ChannelRate } from '../domain/guards/policy.ts'
import { emissionInterval } from '../domain/guards/rate-limit.ts'
import type { Queryable } from './db.ts'

/** Reserves `count` slots; returns the new tat for slotsFromTat(). */
export async function reserveRateSlots(
  db: Queryable,
  workspaceId: string,
  channel: string,
  rate: ChannelRate,
  nowMs: number,
  count = 1,
): Promise<number> {
  const rows = await db.query<{ tat: number }>(
    `INSERT INTO channel_rate_limits AS r (workspace_id, channel, tat)
     VALUES ($1, $2, $3::double precision + $4::double precision)
     ON CONFLICT (workspace_id, channel)
     DO UPDATE SET tat = greatest(r.tat, $3::double precision) + $4::double precision
     RETURNING tat`,
    [workspaceId, channel, nowMs, count * emissionInterval(rate)],
  )
  return Number(rows[0]?.tat ?? nowMs)
}
