// CPU accounting for the benchmarks: on a shared machine, CPU per event is steadier
// than events/s, which depends on how much of the cores other processes leave.
import { readFileSync } from 'node:fs'
import type { Db } from '../src/store/db.ts'

/** CPU time this process used since `before` (user + system), in milliseconds. */
export function cpuMsSince(before: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(before)
  return (used.user + used.system) / 1000
}

/** Linux's USER_HZ, the unit of utime and stime in /proc/<pid>/stat. */
const TICKS_PER_SECOND = 100

function processCpuMs(pid: number): number | undefined {
  try {
    // Fields after the command (which may hold spaces) start at state; utime and stime are fields 14 and 15.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND
  } catch {
    return undefined
  }
}

/**
 * Starts measuring the CPU time of the PostgreSQL backends behind `db`'s pool, when
 * the server runs on this machine (it reads /proc); resolves to a function giving
 * the milliseconds used since, or undefined when the backends cannot be read.
 * Holding `connections` connections at once opens the whole pool and names its
 * backends: called before each run, since the pool closes and reopens idle ones.
 */
export async function startBackendCpu(db: Db, connections: number): Promise<(() => number) | undefined> {
  const rows = await Promise.all(
    Array.from({ length: connections }, () =>
      db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid FROM pg_sleep(0.2)'),
    ),
  )
  const pids = [...new Set(rows.map((r) => r[0]?.pid).filter((p): p is number => typeof p === 'number'))]
  const read = () => pids.map(processCpuMs)
  const before = read()
  if (before.some((ms) => ms === undefined)) return undefined
  return () => read().reduce<number>((sum, ms, i) => sum + ((ms ?? before[i] ?? 0) - (before[i] ?? 0)), 0)
}
