// Embedded adapter: PostgreSQL compiled to WASM, in a data folder or in memory.
import { PGlite, types } from '@electric-sql/pglite'
import { type Db, notifyListeners, type Queryable, type Row } from './db.ts'

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
  // The listeners of this process, for notifyHere: on an embedded database, all of them.
  const here = new Map<string, Set<(payload: string) => void>>()
  return {
    ...base,
    label: dataDir ? `embedded (${dataDir})` : 'embedded (in memory)',
    canListen: true,
    isShared: false,
    transaction: (fn) => pg.transaction((tx) => fn(wrap(tx))),
    async listen(channel, onNotify) {
      const unsub = await pg.listen(channel, onNotify)
      const set = here.get(channel) ?? new Set()
      here.set(channel, set)
      set.add(onNotify)
      return async () => {
        set.delete(onNotify)
        await unsub()
      }
    },
    notifyHere(channel, payload = '') {
      notifyListeners(here.get(channel), payload)
    },
    close: () => pg.close(),
  }
}
