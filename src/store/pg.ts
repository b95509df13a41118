// Server adapter: node-postgres pool. LISTEN uses one dedicated client.
import { createHash } from 'node:crypto'
import pg from 'pg'
import { type Db, notifyListeners, type Queryable, type Row } from './db.ts'

const typeParsers = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === 20 || oid === 1700) return (v: string) => Number(v)
    return pg.types.getTypeParser(oid, format)
  },
}

// Statements with parameters are prepared once per connection under a name derived from
// their text, so the server parses and plans them once instead of at every call (the
// processor and the dispatcher run the same few dozen statements all day). The texts are
// the code's own, so they are few; past MAX_PREPARED distinct ones, new texts run unnamed.
const MAX_PREPARED = 2000
const names = new Map<string, string>()
// A statement whose result columns come from `*` stays unnamed: once a migration adds a
// column, a prepared one fails ("cached plan must not change result type") on every
// connection that prepared it before.
const STAR = /(select|returning)\s+(\w+\.)?\*|,\s*\w+\.\*/i
function statementName(sql: string): string | undefined {
  let name = names.get(sql)
  if (name === undefined && names.size < MAX_PREPARED) {
    // '' remembers "run unnamed", so the text is looked at once.
    name = STAR.test(sql) ? '' : `nudge_${createHash('sha1').update(sql).digest('hex').slice(0, 20)}`
    names.set(sql, name)
  }
  return name || undefined
}

function wrap(client: pg.Pool | pg.PoolClient, ended?: () => boolean): Queryable {
  return {
    async query<R = Row>(sql: string, params: readonly unknown[] = []) {
      if (ended?.()) throw new Error('the transaction has ended')
      const name = params.length > 0 ? statementName(sql) : undefined
      const res = await client.query({
        text: sql,
        values: params as unknown[],
        types: typeParsers,
        ...(name ? { name } : {}),
      })
      return res.rows as R[]
    },
    async exec(sql: string) {
      await client.query(sql)
    },
  }
}

export interface PgOptions {
  max?: number
  /** Schema to put first on search_path (tests isolate by schema). */
  schema?: string
}

export async function fromPg(url: string, opts: PgOptions = {}): Promise<Db> {
  const config: pg.PoolConfig = { connectionString: url, max: opts.max ?? 10 }
  if (opts.schema) config.options = `-c search_path=${opts.schema}`
  // A prepared statement's generic plan is made for the tables as they were and kept until
  // an ANALYZE of them. Autovacuum analyzes tables as they grow; on a server where it is off,
  // nothing would, and a plan made while the events table was small went on reading all of
  // it for every round once it had grown. There, every execution is planned for the tables as
  // they are (the parse stays cached), which costs planning time at each call. The pool
  // hands a new connection out once this has run.
  const onConnect = async (client: pg.ClientBase) => {
    await client
      .query(
        `SELECT set_config('plan_cache_mode', CASE WHEN current_setting('autovacuum') = 'off'
           THEN 'force_custom_plan' ELSE current_setting('plan_cache_mode') END, false)`,
      )
      .catch(() => {})
  }
  // Pipelined: statements issued together on one connection (a round's reads, started at
  // once) are written together, not each after the answer to the one before.
  const pool = new pg.Pool({ ...config, onConnect, pipeline: true })
  // An idle client that errors (server restart) must not crash the process.
  pool.on('error', () => {})
  const base = wrap(pool)
  let listener: pg.Client | undefined
  const handlers = new Map<string, Set<(payload: string) => void>>()
  const safeUrl = url.replace(/\/\/[^@/]*@/, '//')
  return {
    ...base,
    label: safeUrl,
    canListen: true,
    isShared: true,
    async transaction(fn) {
      const client = await pool.connect()
      // Once fn is done, its handle refuses statements: one issued late would otherwise come
      // after COMMIT, outside the transaction, or on a connection given to someone else.
      let ended = false
      try {
        await client.query('BEGIN')
        const out = await fn(wrap(client, () => ended)).finally(() => {
          ended = true
        })
        await client.query('COMMIT')
        return out
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {})
        throw err
      } finally {
        client.release()
      }
    },
    async listen(channel, onNotify) {
      if (!listener) {
        listener = new pg.Client(config)
        listener.on('error', () => {})
        await listener.connect()
        listener.on('notification', (msg) => {
          for (const h of handlers.get(msg.channel) ?? []) h(msg.payload ?? '')
        })
      }
      let set = handlers.get(channel)
      if (!set) {
        set = new Set()
        handlers.set(channel, set)
        await listener.query(`LISTEN "${channel.replaceAll('"', '')}"`)
      }
      set.add(onNotify)
      return async () => {
        set.delete(onNotify)
      }
    },
    notifyHere(channel, payload = '') {
      notifyListeners(handlers.get(channel), payload)
    },
    async close() {
      await listener?.end().catch(() => {})
      await pool.end()
    },
  }
}
