import { mkdir } from 'node:fs/promises'
import type { Config } from '../config.ts'
import type { Db } from './db.ts'
import { lockDataDir } from './lock.ts'
import { fromPg } from './pg.ts'
import { fromPglite } from './pglite.ts'

/** Opens the configured database: a PostgreSQL server if DATABASE_URL is set, else embedded. */
export async function openDb(
  config: Pick<Config, 'DATABASE_URL' | 'NUDGE_DATA_DIR' | 'NUDGE_DB_POOL'>,
): Promise<Db> {
  if (config.DATABASE_URL) return fromPg(config.DATABASE_URL, { max: config.NUDGE_DB_POOL })
  await mkdir(config.NUDGE_DATA_DIR, { recursive: true })
  const unlock = await lockDataDir(config.NUDGE_DATA_DIR)
  let db: Db
  try {
    db = await fromPglite(config.NUDGE_DATA_DIR)
  } catch (err) {
    await unlock()
    throw err
  }
  return {
    ...db,
    close: async () => {
      try {
        await db.close()
      } finally {
        await unlock()
      }
    },
  }
}
