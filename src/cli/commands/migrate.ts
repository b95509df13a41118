import { loadConfig } from '../../config.ts'
import { migrate as runMigrations } from '../../store/migrate.ts'
import { openDb } from '../../store/open.ts'

export async function migrate(): Promise<void> {
  const config = loadConfig()
  const db = await openDb(config)
  try {
    const applied = await runMigrations(db)
    process.stdout.write(applied.length ? `Applied ${applied.join(', ')}\n` : 'Database is up to date\n')
  } finally {
    await db.close()
  }
}
