// A throw-away schema of a PostgreSQL server for benchmarks that fill tables with set-based
// SQL and then time queries on them. BENCH_KEEP=1 leaves the schema behind, to look at
// query plans.
import type { Db } from '../src/store/db.ts'
import { migrate } from '../src/store/migrate.ts'
import { fromPg } from '../src/store/pg.ts'

export interface FreshSchema {
  readonly db: Db
  /** Runs one filling statement and prints how long it took. */
  fill(label: string, sql: string, params?: unknown[]): Promise<void>
  /** Runs `run` three times and prints the first, best and worst times; returns the worst (ms). */
  time(kind: string, label: string, run: () => Promise<unknown>): Promise<number>
  close(): Promise<void>
}

export async function freshSchema(url: string, prefix: string): Promise<FreshSchema> {
  const schema = `${prefix}_${Date.now()}`
  const admin = await fromPg(url, { max: 1 })
  await admin.exec(`CREATE SCHEMA ${schema}`)
  const db = await fromPg(url, { schema, max: 4 })
  await migrate(db)
  return {
    db,
    async fill(label, sql, params = []) {
      const t = performance.now()
      await db.query(sql, params)
      console.log(`  fill: ${label} in ${((performance.now() - t) / 1000).toFixed(1)} s`)
    },
    async time(kind, label, run) {
      const times: number[] = []
      for (let i = 0; i < 3; i++) {
        const t = performance.now()
        await run()
        times.push(performance.now() - t)
      }
      console.log(
        `  ${kind}: ${label.padEnd(28)} first ${times[0]!.toFixed(0)} ms, best ${Math.min(...times).toFixed(0)} ms, worst ${Math.max(...times).toFixed(0)} ms`,
      )
      return Math.max(...times)
    },
    async close() {
      await db.close()
      if (process.env.BENCH_KEEP) console.log(`kept schema ${schema}`)
      else await admin.exec(`DROP SCHEMA ${schema} CASCADE`)
      await admin.close()
    },
  }
}
