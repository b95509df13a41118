// Real databases for tests: PGlite in memory always, and a PostgreSQL server when
// NUDGE_TEST_DATABASE_URL is set. Each call gets its own isolated, migrated database
// (a fresh PGlite, or a fresh schema on the server) that close() throws away.
import { randomBytes } from 'node:crypto'
import { describe } from 'vitest'
import type { Db } from '../../src/store/db.ts'
import { migrate } from '../../src/store/migrate.ts'
import { fromPg } from '../../src/store/pg.ts'
import { fromPglite } from '../../src/store/pglite.ts'

export type Driver = 'pglite' | 'pg'

export const serverUrl = process.env.NUDGE_TEST_DATABASE_URL || undefined

export const drivers: readonly Driver[] = serverUrl ? ['pglite', 'pg'] : ['pglite']

export interface TestDb extends Db {
  readonly driver: Driver
  /** The schema on the server (pg only), so child processes can join the same database. */
  readonly schema: string | undefined
}

export async function openTestDb(driver: Driver): Promise<TestDb> {
  if (driver === 'pglite') {
    const db = await fromPglite()
    await migrate(db)
    return Object.assign(db, { driver, schema: undefined })
  }
  if (!serverUrl) throw new Error('NUDGE_TEST_DATABASE_URL is not set')
  const schema = `t_${randomBytes(6).toString('hex')}`
  const admin = await fromPg(serverUrl, { max: 1 })
  await admin.exec(`CREATE SCHEMA ${schema}`)
  await admin.close()
  const db = await fromPg(serverUrl, { schema, max: 10 })
  await migrate(db)
  const close = db.close.bind(db)
  return Object.assign(db, {
    driver,
    schema,
    async close() {
      await close()
      const a = await fromPg(serverUrl, { max: 1 })
      await a.exec(`DROP SCHEMA ${schema} CASCADE`)
      await a.close()
    },
  })
}

/** describe() once per available driver. */
export function describeEachDriver(name: string, fn: (driver: Driver) => void): void {
  for (const driver of drivers) describe(`${name} [${driver}]`, () => fn(driver))
}
