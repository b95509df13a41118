// Suppressions: people who must never be contacted or re-created from personal data.
// Only sha256 hashes are kept, so a suppression is not itself personal data.
import { createHash } from 'node:crypto'
import type { Suppression as GuardSuppression } from '../domain/guards/types.ts'
import type { Queryable } from './db.ts'

export type SuppressionKind = 'user_id' | 'anonymous_id' | 'email' | 'phone'

/** Emails compare case-insensitively and without surrounding spaces, phones without the
 * spaces, dots, dashes and brackets people type; ids exactly. */
export function suppressionHash(kind: SuppressionKind, value: string): string {
  const normal =
    kind === 'email' ? value.trim().toLowerCase() : kind === 'phone' ? value.replace(/[\s().-]/g, '') : value
  return createHash('sha256').update(normal).digest('hex')
}

export interface Suppression {
  readonly kind: SuppressionKind
  readonly value: string
}

/** Records suppressions (idempotent); returns how many distinct values are now suppressed by this call. */
export async function recordSuppressions(
  db: Queryable,
  workspaceId: string,
  values: readonly Suppression[],
  reason: string,
): Promise<number> {
  const rows = [...new Map(values.map((v) => [`${v.kind}:${suppressionHash(v.kind, v.value)}`, v])).values()]
  if (rows.length === 0) return 0
  await db.query(
    `INSERT INTO suppressions (workspace_id, kind, value_hash, reason)
     SELECT $1, x.k, x.h, $3 FROM jsonb_to_recordset($2::jsonb) AS x(k text, h text)
     ON CONFLICT (workspace_id, kind, value_hash) DO NOTHING`,
    [
      workspaceId,
      JSON.stringify(rows.map((r) => ({ k: r.kind, h: suppressionHash(r.kind, r.value) }))),
      reason,
    ],
  )
  return rows.length
}

export async function isSuppressed(db: Queryable, workspaceId: string, s: Suppression): Promise<boolean> {
  const rows = await db.query(
    'SELECT 1 FROM suppressions WHERE workspace_id = $1 AND kind = $2 AND value_hash = $3',
    [workspaceId, s.kind, suppressionHash(s.kind, s.value)],
  )
  return rows.length > 0
}

/** Maps the free-text reason of a row to what the suppression guard knows. */
export function guardKindOf(reason: string): GuardSuppression['kind'] {
  return reason === 'erased' || reason === 'hard_bounce' || reason === 'complaint' ? reason : 'unsubscribed'
}

/** A hard bounce or a complaint: this address gets nothing more on `channel`. Idempotent. */
export async function recordChannelSuppression(
  db: Queryable,
  workspaceId: string,
  value: Suppression,
  channel: string,
  reason: 'hard_bounce' | 'complaint',
  at: Date,
): Promise<void> {
  await recordChannelSuppressionHash(
    db,
    workspaceId,
    value.kind,
    suppressionHash(value.kind, value.value),
    channel,
    reason,
    at,
  )
}

/** The same, from the hash Nudge kept of the address (bounce handles keep no address). */
export async function recordChannelSuppressionHash(
  db: Queryable,
  workspaceId: string,
  kind: SuppressionKind,
  valueHash: string,
  channel: string,
  reason: 'hard_bounce' | 'complaint',
  at: Date,
): Promise<void> {
  await db.query(
    `INSERT INTO suppressions (workspace_id, kind, value_hash, reason, channel, created_at)
     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (workspace_id, kind, value_hash) DO NOTHING`,
    [workspaceId, kind, valueHash, reason, channel, at.toISOString()],
  )
}
