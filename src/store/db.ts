// The one storage port: a PostgreSQL that answers SQL. Two adapters implement it
// (PGlite embedded, `pg` server); code checks capabilities, never the vendor.

export type Row = Record<string, unknown>

export interface Queryable {
  query<R = Row>(sql: string, params?: readonly unknown[]): Promise<R[]>
  /** Runs a script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>
}

export type Tx = Queryable

export interface Db extends Queryable {
  /** Human label for logs: "embedded (./.nudge)" or "postgres://host/db". */
  readonly label: string
  /** True when NOTIFY from any process reaches `listen` (both adapters can). */
  readonly canListen: boolean
  /** True when several processes may share this database (a server, not an embedded file). */
  readonly isShared: boolean
  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T>
  /** Subscribes to a NOTIFY channel; resolves to an unsubscribe function. */
  listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>>
  /**
   * Calls this process's own listeners of `channel` at once, as a NOTIFY after a commit
   * would, without a round trip to the database. Other processes are not told.
   */
  notifyHere(channel: string, payload?: string): void
  close(): Promise<void>
}

/** notifyHere for an adapter's listeners of a channel: called after the caller's turn, as a notification would be. */
export function notifyListeners(
  listeners: ReadonlySet<(payload: string) => void> | undefined,
  payload: string,
): void {
  if (!listeners?.size) return
  queueMicrotask(() => {
    for (const h of listeners) h(payload)
  })
}
