// Embedded adapter: PostgreSQL compiled to WASM, in a data folder or in memory.
import { PGlite, types } from '@electric-sql/pglite'
import type { Db, Queryable, Row } from './db.ts'

const parsers = {
  [types.INT8]: (v: string) => Number(v),
  [types.NUMERIC]: (v: string) => Number(v),
}

function wrap(q: { query: PGlite['query']; exec: PGlite['exec'] }): Queryable {
  return {
    async query<R = Row>(sql: string, params: readonly unknown[] = []) {
      const res = await q.query<R>(sql, params as unknown[])
      return res.rows
    },
    async exec(sql: string) {
      await q.exec(sql)
    },
  }
}

/** `dataDir` undefined means in-memory (tests). */
export async function fromPglite(dataDir?: string): Promise<Db> {
  const pg = await PGlite.create(dataDir ? { dataDir, parsers } : { parsers })
  const base = wrap(pg)
  return {
    ...base,
    label: dataDir ? `embedded (${dataDir})` : 'embedded (in memory)',
    canListen: true,
    isShared: false,
    transaction: (fn) => pg.transaction((tx) => fn(wrap(tx))),
    async listen(channel, onNotify) {
      const unsub = await pg.listen(channel, onNotify)
      return async () => unsub()
    },
    close: () => pg.close(),
  }
}
