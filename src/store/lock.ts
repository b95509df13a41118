// The embedded database may be opened by one process only: PGlite itself does not
// stop a second process, and two writers would corrupt the data folder. A lock file
// holding the owner's pid makes the second opener fail with a clear message; a lock
// left by a process that died is taken over.
import { open, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { NudgeError } from '../domain/errors.ts'

const LOCK_FILE = 'nudge.lock'

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Takes the lock of `dir`; resolves to its release function. */
export async function lockDataDir(dir: string): Promise<() => Promise<void>> {
  const path = join(dir, LOCK_FILE)
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(path, 'wx')
      await handle.writeFile(String(process.pid))
      await handle.close()
      return () => rm(path, { force: true })
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    }
    const owner = Number((await readFile(path, 'utf8').catch(() => '')).trim())
    if (owner > 0 && alive(owner))
      throw new NudgeError(
        'NUDGE_ERR_DATABASE_IN_USE',
        `The embedded database in ${dir} is in use by process ${owner} (a running Nudge server?). ` +
          'Go through its API instead (set NUDGE_URL and NUDGE_ADMIN_KEY), or stop that process first.',
      )
    // Stale: its owner died without releasing it.
    await writeFile(path, '').catch(() => {})
    await rm(path, { force: true })
  }
  throw new NudgeError('NUDGE_ERR_DATABASE_IN_USE', `Could not lock the embedded database in ${dir}`)
}
