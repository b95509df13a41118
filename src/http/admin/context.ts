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
  /** The time routes record (segment updates, ...); the system clock unless told. */
  readonly clock?: Clock
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the admin API's auth hook. */
    adminWorkspaceId: string
  }
}

export function workspaceOf(req: FastifyRequest): string {
  return req.adminWorkspaceId
}
