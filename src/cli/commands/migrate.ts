import { loadConfig } from '../../config.ts'
import { migrate as runMigrations } from '../../store/migrate.ts'
import { openDb } from '../../store/open.ts'
import { type Args, flag } from '../args.ts'

export async function migrate(args: Args): Promise<void> {
  const configPath = flag(args, 'config')
  const config = loadConfig(process.env, configPath !== undefined ? { configPath } : {})
  const db = await openDb(config)
  try {
    const applied = await runMigrations(db)
    process.stdout.write(applied.length ? `Applied ${applied.join(', ')}\n` : 'Database is up to date\n')
  } finally {
    await db.close()
  }
}
