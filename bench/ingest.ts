// Ingest benchmark: Nudge's /v1 endpoints against a bare baseline in the same run,
// same database, same load. Usage: npm run bench:ingest [-- --seconds 5]
//   BENCH_DATABASE_URL or DATABASE_URL: a PostgreSQL server (a `nudge_bench` schema
//   is created and dropped); otherwise an embedded PGlite in a temporary folder.
import { fork } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import Fastify, { type FastifyInstance } from 'fastify'
import { buildApp } from '../src/http/app.ts'
import { silentLogger } from '../src/log.ts'
import type { Db } from '../src/store/db.ts'
import { migrate } from '../src/store/migrate.ts'
import { fromPg } from '../src/store/pg.ts'
import { fromPglite } from '../src/store/pglite.ts'
import { ensureDefaultWorkspace } from '../src/store/workspaces.ts'
import { cpuMsSince, startBackendCpu } from './cpu.ts'
import type { LoadJob, LoadResult } from './load.ts'

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    'batch-connections': { type: 'string', default: '8' },
    'single-connections': { type: 'string', default: '64' },
  },
})
const seconds = Number(args.seconds)
const WRITE_KEY = 'nwk_bench'
const SCHEMA = 'nudge_bench'
const url = process.env.BENCH_DATABASE_URL || process.env.DATABASE_URL || undefined

const POOL = 10

async function openBenchDb(): Promise<{
  db: Db
  label: string
  cleanup: () => Promise<void>
  /** Measures the database's own CPU from now on, when it is a separate local server. */
  startDatabaseCpu?: () => Promise<(() => number) | undefined>
}> {
  if (url) {
    const admin = await fromPg(url, { max: 1 })
    await admin.exec(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE; CREATE SCHEMA ${SCHEMA}`)
    const db = await fromPg(url, { schema: SCHEMA, max: POOL })
    return {
      db,
      label: `PostgreSQL (${db.label}, schema ${SCHEMA})`,
      startDatabaseCpu: () => startBackendCpu(db, POOL),
      cleanup: async () => {
        await db.close()
        await admin.exec(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`)
        await admin.close()
      },
    }
  }
  const dir = await mkdtemp(join(tmpdir(), 'nudge-bench-'))
  const db = await fromPglite(dir)
  return {
    db,
    label: 'embedded PGlite (temporary folder)',
    cleanup: async () => {
      await db.close()
      await rm(dir, { recursive: true, force: true })
    },
  }
}

/** The bare baseline: parse JSON, one INSERT per request, no validation, no auth. */
function baselineApp(db: Db): FastifyInstance {
  const app = Fastify({ bodyLimit: 1024 * 1024 })
  const columns =
    '(workspace_id, message_id, type, name, user_id, anonymous_id, partition, timestamp, received_at, payload)'
  const rowOf = (e: Record<string, unknown>, now: Date, type: string): unknown[] => [
    'default',
    e.messageId,
    type,
    e.event ?? null,
    e.userId ?? null,
    e.anonymousId ?? null,
    0,
    e.timestamp ?? now,
    now,
    JSON.stringify(e),
  ]
  const insert = (rows: unknown[][]) => {
    const params: unknown[] = []
    const values = rows.map((r) => {
      const base = params.length
      params.push(...r)
      return `(${r.map((_, i) => `$${base + i + 1}`).join(', ')})`
    })
    return db.query(
      `INSERT INTO baseline_events ${columns} VALUES ${values.join(', ')} ON CONFLICT (workspace_id, message_id) DO NOTHING`,
      params,
    )
  }
  app.post('/v1/batch', async (req) => {
    const now = new Date()
    const { batch } = req.body as { batch: Array<Record<string, unknown>> }
    await insert(batch.map((e) => rowOf(e, now, String(e.type))))
    return { success: true }
  })
  // Commit per request: what ingest would be without group commit.
  app.post('/v1/track', async (req) => {
    await insert([rowOf(req.body as Record<string, unknown>, new Date(), 'track')])
    return { success: true }
  })
  return app
}

function load(job: LoadJob): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = fork(new URL('./load.ts', import.meta.url), [JSON.stringify(job)])
    child.once('message', (m) => resolve(m as LoadResult))
    child.once('error', reject)
    child.once('exit', (code) => code && reject(new Error(`load generator exited with ${code}`)))
  })
}

interface Row {
  readonly label: string
  readonly eventsPerSecond: number
  readonly result: LoadResult
}

async function main(): Promise<void> {
  const { db, label, cleanup, startDatabaseCpu } = await openBenchDb()
  try {
    await migrate(db)
    await ensureDefaultWorkspace(db, { writeKey: WRITE_KEY })
    await db.exec('CREATE TABLE baseline_events (LIKE events INCLUDING ALL)')
    const nudge = await buildApp({ db, log: silentLogger })
    const baseline = baselineApp(db)
    const nudgeUrl = await nudge.listen({ port: 0, host: '127.0.0.1' })
    const baseUrl = await baseline.listen({ port: 0, host: '127.0.0.1' })
    const batchConnections = Number(args['batch-connections'])
    const singleConnections = Number(args['single-connections'])
    process.stdout.write(`Ingest benchmark on ${label}, ${seconds} s per run\n`)

    const rows: Row[] = []
    const run = async (name: string, target: string, batchSize: number, connections: number) => {
      const path = batchSize ? '/v1/batch' : '/v1/track'
      const job = { url: target, path, writeKey: WRITE_KEY, batchSize, connections, seconds, tag: name }
      await load({ ...job, seconds: 1, tag: `${name}-warm` })
      const databaseCpu = await startDatabaseCpu?.()
      const cpuBefore = process.cpuUsage()
      const result = await load(job)
      const serverCpuMs = cpuMsSince(cpuBefore)
      const databaseCpuMs = databaseCpu?.()
      const events = result.ok * Math.max(batchSize, 1)
      const eventsPerSecond = events / result.seconds
      rows.push({ label: name, eventsPerSecond, result })
      // Server = this process (both apps, and PGlite when embedded); database = the
      // PostgreSQL backends of the pool, when the server is local.
      const perEvent = (ms: number) => `${((ms * 1000) / Math.max(events, 1)).toFixed(1)} µs/event`
      process.stdout.write(
        `  ${name.padEnd(34)} ${Math.round(eventsPerSecond).toString().padStart(8)} events/s` +
          `  (${result.ok} requests ok, ${result.failed} failed, p50 ${result.latencyP50} ms, p99 ${result.latencyP99} ms;` +
          ` CPU: server ${perEvent(serverCpuMs)}` +
          (databaseCpuMs === undefined ? '' : `, database ${perEvent(databaseCpuMs)}`) +
          `, load generator ${Math.round((result.cpuMs / (result.seconds * 1000)) * 100)}% of a core)\n`,
      )
    }
    await run('nudge batch (100/request)', nudgeUrl, 100, batchConnections)
    await run('baseline batch (multi-row INSERT)', baseUrl, 100, batchConnections)
    await run('nudge single (group commit)', nudgeUrl, 0, singleConnections)
    await run('baseline single (commit/request)', baseUrl, 0, singleConnections)
    await nudge.close()
    await baseline.close()

    const [nb, bb, ns, bs] = rows.map((r) => r.eventsPerSecond) as [number, number, number, number]
    const stored = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM events')
    const pct = (x: number) => `${Math.round(x * 100)}%`
    process.stdout.write(
      [
        '',
        `  batched: nudge / baseline = ${pct(nb / bb)} (target >= 70%; >= 25,000 events/s on PostgreSQL, >= 5,000 on PGlite)`,
        `  single:  nudge / commit-per-request = ${(ns / bs).toFixed(2)}x (target >= 3x)`,
        `  events stored by nudge: ${stored[0]?.n}`,
        '',
      ].join('\n'),
    )
  } finally {
    await cleanup()
  }
}

await main()
