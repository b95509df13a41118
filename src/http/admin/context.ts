// What every admin route receives: its dependencies, and the workspace of the
// admin key that authenticated the request.
import type { FastifyRequest } from 'fastify'
import type { Clock } from '../../domain/clock.ts'
import type { Db } from '../../store/db.ts'
import type { KeyResolver } from '../auth.ts'

export interface AdminDeps {
  readonly db: Db
  readonly keys: KeyResolver
  /** Where the local mailbox lives; absent on a server without workers. */
  readonly dataDir?: string
  /** Server-wide channel settings (email from NUDGE_SMTP_URL), shown when a workspace saved none. */
  readonly channelDefaults?: Readonly<Record<string, unknown>>
  /** Public URL of this Nudge (NUDGE_PUBLIC_URL): links in previews and test sends point under it. */
  readonly publicUrl?: string
  /** The time routes record (segment updates, manual moves, revocations, reports' "now"); the system clock unless told. */
  readonly clock?: Clock
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the admin API's auth hook. */
    adminWorkspaceId: string
    /** Id of the admin key that authenticated the request (who did a manual action). */
    adminKeyId: string
  }
}

export function workspaceOf(req: FastifyRequest): string {
  return req.adminWorkspaceId
}

/** Who a manual action is recorded as: the name given, else the admin key. */
export function actorOf(req: FastifyRequest, by: string | undefined): string {
  return by ?? `admin key ${req.adminKeyId}`
}
