// Starts a worker script as a child process on a test database's PostgreSQL schema and
// waits until it reports that it runs (crash tests kill it with SIGKILL).
import { type ChildProcess, fork } from 'node:child_process'
import { serverUrl, type TestDb } from './db.ts'

export function startWorker(script: string, db: TestDb, id: string): Promise<ChildProcess> {
  const child = fork(script, [serverUrl!, db.schema!, id], { execPath: process.execPath, stdio: 'ignore' })
  return new Promise((resolve, reject) => {
    child.once('message', () => resolve(child))
    child.once('error', reject)
    child.once('exit', (code) => reject(new Error(`worker exited early with ${code}`)))
  })
}
