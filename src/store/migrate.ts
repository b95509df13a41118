// Applies the numbered .sql files in ./migrations once each, in order, under an
// advisory lock so that several processes starting together do not race.
import { readdir, readFile } from 'node:fs/promises'
import type { Db } from './db.ts'

const dir = new URL('./migrations/', import.meta.url)
const LOCK_ID = 7_411_001

export interface Migration {
  readonly id: number
  readonly name: string
  readonly sql: string
}

export async function loadMigrations(): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => /^\d{3}_.+\.sql$/.test(f)).sort()
  return Promise.all(
    files.map(async (name) => ({
      id: Number(name.slice(0, 3)),
      name,
      sql: await readFile(new URL(name, dir), 'utf8'),
    })),
  )
}

/** Returns the names of the migrations applied by this call. */
export async function migrate(db: Db): Promise<string[]> {
  const migrations = await loadMigrations()
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [LOCK_ID])
    await tx.exec(`CREATE TABLE IF NOT EXISTS nudge_migrations (
      id integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`)
    const done = new Set((await tx.query<{ id: number }>('SELECT id FROM nudge_migrations')).map((r) => r.id))
    const applied: string[] = []
    for (const m of migrations) {
      if (done.has(m.id)) continue
      await tx.exec(m.sql)
      await tx.query('INSERT INTO nudge_migrations (id, name) VALUES ($1, $2)', [m.id, m.name])
      applied.push(m.name)
    }
    return applied
  })
}
