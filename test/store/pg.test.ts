// The server adapter's connection settings.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Db } from '../../src/store/db.ts'
import { fromPg } from '../../src/store/pg.ts'
import { serverUrl } from '../helpers/db.ts'

describe.skipIf(!serverUrl)('PostgreSQL connections', () => {
  let db: Db
  beforeAll(async () => {
    db = await fromPg(serverUrl as string, { max: 2 })
  })
  afterAll(async () => {
    await db.close()
  })

  it('plan every execution afresh when autovacuum is off, and keep the server default otherwise', async () => {
    // Two statements at once: both connections of the pool are opened and answer.
    const answers = await Promise.all(
      [0, 1].map(() =>
        db.transaction((tx) =>
          tx.query<{ autovacuum: string; mode: string; fallback: string }>(
            `SELECT current_setting('autovacuum') AS autovacuum, current_setting('plan_cache_mode') AS mode,
               (SELECT reset_val FROM pg_settings WHERE name = 'plan_cache_mode') AS fallback`,
          ),
        ),
      ),
    )
    for (const [row] of answers) {
      expect(row).toBeDefined()
      if (row?.autovacuum === 'off') expect(row.mode).toBe('force_custom_plan')
      else expect(row?.mode).toBe(row?.fallback)
    }
  })
})
