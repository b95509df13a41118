import { afterAll, beforeAll, expect, it } from 'vitest'
import { migrate } from '../../src/store/migrate.ts'
import { ensureDefaultWorkspace, findKey } from '../../src/store/workspaces.ts'
import { describeEachDriver, openTestDb, type TestDb } from '../helpers/db.ts'

describeEachDriver('storage', (driver) => {
  let db: TestDb
  beforeAll(async () => {
    db = await openTestDb(driver)
  })
  afterAll(() => db.close())

  it('applies migrations once: a second run applies nothing', async () => {
    expect(await migrate(db)).toEqual([])
    const rows = await db.query<{ name: string }>('SELECT name FROM nudge_migrations ORDER BY id')
    expect(rows[0]?.name).toBe('001_init.sql')
  })

  it('creates the default workspace once, with the keys from the environment', async () => {
    const first = await db.transaction((tx) =>
      ensureDefaultWorkspace(tx, { writeKey: 'write-key-123', adminKey: 'admin-key-123' }),
    )
    expect(first).toEqual({ created: true, generated: [] })
    const again = await db.transaction((tx) => ensureDefaultWorkspace(tx))
    expect(again.created).toBe(false)
    expect((await findKey(db, 'write-key-123'))?.kind).toBe('write')
    expect((await findKey(db, 'admin-key-123'))?.kind).toBe('admin')
    expect(await findKey(db, 'nope')).toBeUndefined()
    // Only hashes are stored.
    const stored = await db.query<{ key_hash: string }>('SELECT key_hash FROM api_keys')
    expect(stored.map((r) => r.key_hash)).not.toContain('write-key-123')
  })

  it('rolls a failed transaction back', async () => {
    await expect(
      db.transaction(async (tx) => {
        await tx.query(`INSERT INTO workspaces (id, name) VALUES ('w2', 'W2')`)
        throw new Error('boom')
      }),
    ).rejects.toThrow('boom')
    expect(await db.query(`SELECT id FROM workspaces WHERE id = 'w2'`)).toEqual([])
  })

  it('delivers NOTIFY to listeners', async () => {
    const got = new Promise<string>((resolve) => {
      void db.listen('nudge_test', resolve)
    })
    await new Promise((r) => setTimeout(r, 50))
    await db.query(`SELECT pg_notify('nudge_test', 'hello')`)
    expect(await got).toBe('hello')
  })
})
