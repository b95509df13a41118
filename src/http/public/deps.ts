// What the public routes need, passed in by buildApp.
import type { Clock } from '../../domain/clock.ts'
import type { Logger } from '../../log.ts'
import type { Db } from '../../store/db.ts'

export interface PublicDeps {
  readonly db: Db
  readonly clock: Clock
  readonly log: Logger
  /** The URL members and providers reach this Nudge at (provider signatures cover it). */
  readonly publicUrl?: string
}

/** Form fields of a urlencoded body (the parser in index.ts makes them). */
export type FormBody = Readonly<Record<string, string>>

export function formOf(body: unknown): FormBody {
  return body && typeof body === 'object' && !Buffer.isBuffer(body) ? (body as FormBody) : {}
}
