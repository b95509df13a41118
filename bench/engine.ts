// Engine benchmark, on a PostgreSQL server (a throw-away database is created and dropped):
//  (a) journey timers fired per second: real runs waiting on a delay, whose timer fires the
//      send step after it, with 1,000,000 more journey timers pending in the future;
//  (b) ingest → outbox latency: single events over HTTP at a steady rate into a running node
//      (`nudge start`, a process of its own) whose journey sends at once, timed from the
//      request to the outbox NOTIFY of its message.
// Usage: npm run bench:engine   (BENCH_DATABASE_URL, default local PostgreSQL;
//   BENCH_PENDING, BENCH_DUE, BENCH_RATE events/s, BENCH_SECONDS measured after BENCH_WARMUP
//   seconds (default 2) of the same load, BENCH_PART=timers|latency,
//   BENCH_SPLIT=1 for an API process and a worker process instead of one with both roles,
//   BENCH_NODE_FLAGS for the node's Node.js flags, e.g. "--cpu-prof --cpu-prof-dir=prof",
//   BENCH_VERBOSE=1 for the latency of each second, where the slowest pings spent it and the
//   cores each process used (from /proc, Linux), and the CPU the timers took to fire,
//   BENCH_KEEP=1 to keep the database for a look afterwards, BENCH_EMAIL_RATE=<n>|off for the
//   workspace's email rate limit in the latency part instead of the default 50/s)
import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { once } from 'node:events'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import http from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { systemClock } from '../src/domain/clock.ts'
import { evaluate } from '../src/domain/conditions/evaluate.ts'
import { memoryHistory } from '../src/domain/conditions/history.ts'
import { advance } from '../src/domain/journeys/engine.ts'
import { runToJSON } from '../src/domain/journeys/run.ts'
import { JourneySchema } from '../src/domain/journeys/schema.ts'
import { makeLogger } from '../src/log.ts'
import { makeWorkers } from '../src/runtime/workers.ts'
import type { Db } from '../src/store/db.ts'
import { applyJourney } from '../src/store/journeys.ts'
import { OUTBOX_CHANNEL } from '../src/store/messages.ts'
import { migrate } from '../src/store/migrate.ts'
import { fromPg } from '../src/store/pg.ts'
import { saveTemplates } from '../src/store/workspace-templates.ts'
import { ensureDefaultWorkspace } from '../src/store/workspaces.ts'

const url = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const pending = Number(process.env.BENCH_PENDING ?? 1_000_000)
const due = Number(process.env.BENCH_DUE ?? 20_000)
const rate = Number(process.env.BENCH_RATE ?? 1000)
const seconds = Number(process.env.BENCH_SECONDS ?? 10)
/** Seconds of the same load before the measured ones (a running node has its code compiled and its statements prepared). */
const warmup = Number(process.env.BENCH_WARMUP ?? 2)
/** The workspace's email rate limit in the latency part, per second (or `off`); default the policy's. */
const emailRate = process.env.BENCH_EMAIL_RATE
if (emailRate !== undefined && emailRate !== 'off' && !(Number(emailRate) > 0))
  throw new Error(`BENCH_EMAIL_RATE must be a number of mails per second or "off", not "${emailRate}"`)
/** `timers` or `latency` to run one part only. */
const part = process.env.BENCH_PART
/** Print where the CPU went (BENCH_VERBOSE=1). */
const verbose = Boolean(process.env.BENCH_VERBOSE)
const WRITE_KEY = 'nwk_bench_engine'
const database = `nudge_bench_engine_${Date.now()}`

const delayJourney = JourneySchema.parse({
  id: 'bench-follow-up',
  name: 'Follow-up an hour later',
  trigger: { type: 'event', event: 'Signed Up' },
  entry: { type: 'once' },
  steps: [
    { id: 'wait', type: 'delay', for: '1h' },
    { id: 'follow-up', type: 'send', channel: 'email', template: 'follow-up' },
  ],
})
const instantJourney = JourneySchema.parse({
  id: 'bench-instant',
  name: 'Answer at once',
  trigger: { type: 'event', event: 'Bench Ping' },
  entry: { type: 'every_time' },
  steps: [{ id: 'answer', type: 'send', channel: 'email', template: 'answer' }],
})

/** `nudge start` in a child process; resolves with its API address once it listens. */
async function startNudge(
  env: Record<string, string>,
): Promise<{ url: string; pid: number; stop(): Promise<void> }> {
  const ready = env['NUDGE_ROLE'] === 'worker' ? /Nudge is running()/ : /API:\s+(\S+)/
  const flags = process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? []
  const child = spawn(
    process.execPath,
    [...flags, new URL('../bin/nudge.js', import.meta.url).pathname, 'start'],
    {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  )
  let out = ''
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString()
      const m = ready.exec(out)
      if (m) resolve(m[1] ?? '')
    })
    child.once('exit', (code) => reject(new Error(`nudge start exited with ${code}: ${out}`)))
  })
  return {
    url,
    pid: child.pid ?? 0,
    async stop() {
      if (child.exitCode !== null) return
      child.kill('SIGTERM')
      await once(child, 'exit')
    },
  }
}

const publish = (db: Db, journey: unknown) =>
  db.transaction((tx) => applyJourney(tx, 'default', JSON.parse(JSON.stringify(journey)), { publish: true }))

/** The run and timer the engine makes on entry, with placeholders for the ids. */
function runTemplate() {
  // Entered two hours ago: the delay of an hour is over, the run's timer is due.
  const now = new Date(Date.now() - 2 * 3600_000)
  const result = advance(
    delayJourney,
    null,
    {
      kind: 'enter',
      runId: 'RUNID',
      version: 1,
      key: 'once',
      event: {
        id: 'EVENTID',
        type: 'track',
        name: 'Signed Up',
        timestamp: now,
        properties: {},
        traits: {},
        context: {},
      },
    },
    now,
    {
      evaluate,
      history: memoryHistory([]),
      stages: [],
      profile: {
        profileId: 'PROFILEID',
        userId: null,
        traits: {},
        firstSeenAt: now,
        lastSeenAt: now,
        timezone: null,
        segments: new Set(),
        badges: new Set(),
        stage: null,
        score: 0,
      },
    },
  )
  const timer = result.effects.find((e) => e.type === 'schedule_timer')
  if (timer?.type !== 'schedule_timer' || result.run.status !== 'delayed')
    throw new Error('the engine did not park the run on its delay')
  return {
    state: JSON.stringify(runToJSON(result.run)),
    timerId: timer.timerId,
    purpose: timer.purpose,
    at: timer.at.toISOString(),
  }
}

async function timersPerSecond(db: Db): Promise<string> {
  await publish(db, delayJourney)
  const t = runTemplate()
  // Set-based fill of what the processor would have written for `due` sign-ups an hour ago.
  await db.query(
    `INSERT INTO profiles (workspace_id, profile_id, user_id, traits, first_seen_at, last_seen_at)
     SELECT 'default', gen_random_uuid(), 'member-' || g, '{}', now(), now() FROM generate_series(1, $1) g`,
    [due],
  )
  // Their userIds, so the events a run emits (Journey Completed) reach the log as for real.
  await db.query(
    `INSERT INTO profile_identities (workspace_id, kind, value, profile_id, first_seen_at)
     SELECT workspace_id, 'user_id', user_id, profile_id, now() FROM profiles`,
  )
  await db.query(
    `INSERT INTO journey_runs (workspace_id, profile_id, run_id, journey_id, version, entry_key, status, state, started_at, updated_at)
     SELECT workspace_id, profile_id, 'r_' || user_id, 'bench-follow-up', 1, 'once', 'delayed',
            replace(replace($1, 'RUNID', 'r_' || user_id), 'PROFILEID', profile_id::text)::jsonb, now(), now()
     FROM profiles WHERE workspace_id = 'default'`,
    [t.state],
  )
  await db.query(
    `INSERT INTO timers (workspace_id, profile_id, timer_id, kind, fire_at, payload)
     SELECT workspace_id, profile_id, replace($1, 'RUNID', run_id), 'journey', $2,
            jsonb_build_object('runId', run_id, 'journeyId', 'bench-follow-up', 'version', 1, 'purpose', $3::text)
     FROM journey_runs`,
    [t.timerId, t.at, t.purpose],
  )
  const future = new Date(Date.now() + 30 * 86_400_000).toISOString()
  await db.query(
    `INSERT INTO timers (workspace_id, profile_id, timer_id, kind, fire_at, payload)
     SELECT 'default', gen_random_uuid(), 'r_later' || g || '/wait/timer/1', 'journey', $1::timestamptz + (g || ' seconds')::interval,
            jsonb_build_object('runId', 'r_later' || g, 'journeyId', 'bench-follow-up', 'version', 1)
     FROM generate_series(1, $2) g`,
    [future, pending],
  )
  await db.exec('ANALYZE')
  const workers = await makeWorkers({
    db,
    clock: systemClock,
    log: makeLogger('warn'),
    workerId: randomUUID(),
  })
  const dbBefore = verbose ? await dbCpu(db) : new Map<number, number>()
  const benchBefore = process.cpuUsage()
  const started = performance.now()
  const fired = await workers.scheduler.drain()
  const elapsed = (performance.now() - started) / 1000
  if (verbose) {
    // Per server process, so a connection opened while firing counts from zero.
    let dbSeconds = 0
    for (const [pid, s] of await dbCpu(db)) dbSeconds += s - (dbBefore.get(pid) ?? 0)
    const bench = process.cpuUsage(benchBefore)
    const benchSeconds = (bench.user + bench.system) / 1e6
    const per = (seconds: number) => `${((seconds / Math.max(1, fired)) * 1e6).toFixed(0)} µs/timer`
    console.log(
      `  CPU while firing (cores): scheduler ${(benchSeconds / elapsed).toFixed(2)} (${per(benchSeconds)}), PostgreSQL ${(dbSeconds / elapsed).toFixed(2)} (${per(dbSeconds)})`,
    )
  }
  await workers.stop()
  const [sent] = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM messages WHERE journey_id = 'bench-follow-up' AND step_id = 'follow-up'`,
  )
  const [done] = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM journey_runs WHERE status = 'completed'`,
  )
  if (sent?.n !== due || done?.n !== due)
    throw new Error(`expected ${due} sends, got ${sent?.n} (${done?.n} completed)`)
  const perSecond = Math.round(fired / elapsed)
  return `journey timers: fired ${fired} delay timers (run → send → completed) in ${elapsed.toFixed(2)} s = ${perSecond}/s with ${pending} pending   target ≥ 5000/s   ${perSecond >= 5000 ? 'MET' : 'MISSED'}`
}

/** CPU seconds a process has used so far, from /proc (Linux); 0 where it cannot be read. */
function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / 100
  } catch {
    return 0
  }
}

/** CPU seconds used so far by each of the database server's processes. */
async function dbCpu(db: Db): Promise<Map<number, number>> {
  const rows = await db.query<{ pid: number }>('SELECT pid FROM pg_stat_activity')
  return new Map(rows.map((r) => [r.pid, cpuSeconds(r.pid)]))
}

/** CPU seconds used so far by the node(s), this process and the database server's processes. */
async function cpuSample(db: Db, pids: number[]): Promise<{ node: number; bench: number; db: number }> {
  const server = await dbCpu(db)
  const usage = process.cpuUsage()
  return {
    node: pids.reduce((s, p) => s + cpuSeconds(p), 0),
    bench: (usage.user + usage.system) / 1e6,
    db: [...server.values()].reduce((s, v) => s + v, 0),
  }
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? Number.NaN

async function ingestToOutbox(db: Db, dbUrl: string): Promise<string> {
  const dataDir = mkdtempSync(join(tmpdir(), 'nudge-bench-engine-'))
  await publish(db, instantJourney)
  if (emailRate !== undefined) {
    // The workspace's email rate limit instead of the default (50/s): `off` for none.
    const limit = emailRate === 'off' ? null : { perSecond: Number(emailRate), burst: Number(emailRate) }
    await db.query(`UPDATE workspaces SET settings = settings || $1::jsonb WHERE id = 'default'`, [
      JSON.stringify({ guards: { rateLimits: { email: limit } } }),
    ])
  }
  // A real message: the dispatcher renders it and hands it to the local mailbox (the default
  // channel without NUDGE_SMTP_URL). Transactional, so the default cap and quiet hours let it by.
  await saveTemplates(
    db,
    'default',
    [
      {
        name: 'answer',
        channel: 'email',
        category: 'transactional',
        subject: 'Pong for {{ profile.traits.name }}',
        text: 'You pinged at {{ event.timestamp }}.',
      },
    ],
    new Date(),
  )
  // The node runs as it is deployed, `nudge start` in a process of its own: the load
  // generator and the measurement below (an SDK and an observer) do not share its event loop.
  const env = {
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: dbUrl,
    NUDGE_WRITE_KEY: WRITE_KEY,
    NUDGE_LOG_LEVEL: 'warn',
    NUDGE_DATA_DIR: dataDir,
  }
  const split = process.env.BENCH_SPLIT === '1'
  const worker = split ? await startNudge({ ...env, NUDGE_ROLE: 'worker' }) : null
  const node = await startNudge(split ? { ...env, NUDGE_ROLE: 'api' } : env)
  // The members exist, with an address, before the timed pings.
  const members = Array.from({ length: 1000 }, (_, i) => ({
    type: 'identify',
    userId: `user-${i}`,
    traits: { name: `Member ${i}`, email: `user-${i}@bench.example` },
  }))
  for (let i = 0; i < members.length; i += 100) {
    const res = await fetch(`${node.url}/v1/batch`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Basic ${Buffer.from(`${WRITE_KEY}:`).toString('base64')}`,
      },
      body: JSON.stringify({ batch: members.slice(i, i + 100) }),
    })
    if (!res.ok) throw new Error(`identify batch: HTTP ${res.status}`)
  }
  for (;;) {
    const [left] = await db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM events WHERE processed_at IS NULL',
    )
    if (left?.n === 0) break
    await new Promise((r) => setTimeout(r, 100))
  }
  const sentAt = new Map<string, number>()
  const latencies: number[] = []
  /** Per measured ping: when it was sent (ms since the start), beside its latency, for BENCH_VERBOSE. */
  const sentAtOf: number[] = []
  const idOf: string[] = []
  // On each outbox NOTIFY, read the new messages; a message counts from the moment the
  // read returns (slightly late, never early). A message is created after its ping was
  // sent, so the read starts at the oldest ping still waiting (less a margin for clocks).
  let dirty = false
  let busy = false
  const read = async () => {
    busy = true
    while (dirty) {
      dirty = false
      const oldest = sentAt.values().next().value
      if (oldest === undefined) continue
      const rows = await db.query<{ id: string }>(
        `SELECT payload -> 'event' ->> 'id' AS id FROM messages
         WHERE workspace_id = 'default' AND journey_id = 'bench-instant' AND created_at >= $1`,
        [new Date(performance.timeOrigin + oldest - 50).toISOString()],
      )
      const at = performance.now()
      for (const r of rows) {
        const t0 = sentAt.get(r.id)
        if (t0 === undefined) continue
        sentAt.delete(r.id)
        latencies.push(at - t0)
        sentAtOf.push(t0)
        idOf.push(r.id)
      }
    }
    // No await between the last check of `dirty` and this: no notification is missed.
    busy = false
  }
  const unlisten = await db.listen(OUTBOX_CHANNEL, () => {
    dirty = true
    if (!busy) void read()
  })
  const auth = `Basic ${Buffer.from(`${WRITE_KEY}:`).toString('base64')}`
  // Keep-alive sockets like an SDK's: requests beyond them queue in the client, and that
  // wait counts in the latency.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 })
  const post = (base: string, body: string) =>
    new Promise<void>((resolve) => {
      const req = http.request(
        `${base}/v1/track`,
        { method: 'POST', agent, headers: { 'content-type': 'application/json', authorization: auth } },
        (res) => {
          if (res.statusCode !== 200) fail(`HTTP ${res.statusCode}`)
          res.resume()
          res.on('end', resolve)
        },
      )
      req.on('error', (err) => {
        fail(err.message)
        resolve()
      })
      req.end(body)
    })
  let errors = 0
  const failures = new Map<string, number>()
  const fail = (why: string) => {
    errors++
    failures.set(why, (failures.get(why) ?? 0) + 1)
  }
  let i = 0
  const warm = rate * warmup
  const measured = rate * seconds
  const total = warm + measured
  const tickMs = 10
  const perTick = Math.max(1, Math.round((rate * tickMs) / 1000))
  const inFlight: Promise<void>[] = []
  const start = performance.now()
  const pids = [node.pid, ...(worker ? [worker.pid] : [])]
  // CPU used while the measured pings are sent (BENCH_VERBOSE): is the machine saturated, and
  // by whom? Read from /proc, so PostgreSQL's share is right only for a server on this machine.
  const cpuFrom = verbose
    ? new Promise<Awaited<ReturnType<typeof cpuSample>>>((resolve) =>
        setTimeout(() => resolve(cpuSample(db, pids)), warmup * 1000),
      )
    : undefined
  await new Promise<void>((resolve) => {
    const tick = () => {
      const target = Math.min(total, Math.round(((performance.now() - start) / 1000) * rate) + perTick)
      for (; i < target; i++) {
        const messageId = `ping-${i}`
        if (i >= warm) sentAt.set(messageId, performance.now())
        inFlight.push(
          post(node.url, JSON.stringify({ userId: `user-${i % 1000}`, event: 'Bench Ping', messageId })),
        )
      }
      if (i >= total) resolve()
      else setTimeout(tick, tickMs)
    }
    tick()
  })
  const sendSeconds = (performance.now() - start) / 1000
  const cpu = cpuFrom ? ([await cpuFrom, await cpuSample(db, pids)] as const) : undefined
  await Promise.all(inFlight)
  for (let w = 0; w < 300 && latencies.length + errors < measured; w++)
    await new Promise((r) => setTimeout(r, 50))
  await unlisten()
  agent.destroy()
  // The dispatcher's side, for the record: what became of the messages by the cut-off.
  const statuses = await db.query<{ status: string; n: number }>(
    `SELECT status, count(*)::int AS n FROM messages WHERE journey_id = 'bench-instant' GROUP BY status ORDER BY status`,
  )
  await node.stop()
  await worker?.stop()
  rmSync(dataDir, { recursive: true, force: true })
  if (process.env.BENCH_VERBOSE) {
    // p50 and p99 of the pings sent in each second, to see whether the tail is spread or bunched.
    const bySecond = new Map<number, number[]>()
    latencies.forEach((l, k) => {
      const s = Math.floor(((sentAtOf[k] ?? 0) - start) / 1000)
      bySecond.set(s, [...(bySecond.get(s) ?? []), l])
    })
    for (const [s, ls] of [...bySecond].sort((a, b) => a[0] - b[0])) {
      ls.sort((a, b) => a - b)
      console.log(
        `  second ${s}: ${ls.length} pings, p50 ${percentile(ls, 0.5).toFixed(0)} ms, p99 ${percentile(ls, 0.99).toFixed(0)} ms, max ${ls.at(-1)?.toFixed(0)} ms`,
      )
    }
  }
  if (cpu) {
    const [cpuA, cpuB] = cpu
    const span = sendSeconds - warmup
    const share = (k: 'node' | 'bench' | 'db') => ((cpuB[k] - cpuA[k]) / span).toFixed(2)
    console.log(
      `  CPU while measured (cores): node ${share('node')}, load generator ${share('bench')}, PostgreSQL ${share('db')}`,
    )
  }
  if (process.env.BENCH_VERBOSE) {
    // Where the slowest pings spent their time: request → received (HTTP), received →
    // round started (ingest commit and the wait for a round), round started → seen.
    const rows = await db.query<{ id: string; r: Date; p: Date }>(
      `SELECT message_id AS id, received_at AS r, processed_at AS p FROM events WHERE message_id = ANY($1)`,
      [idOf],
    )
    const ev = new Map(rows.map((r) => [r.id, r]))
    const order = latencies.map((_l, k) => k).sort((a, b) => (latencies[b] ?? 0) - (latencies[a] ?? 0))
    const origin = performance.timeOrigin
    const parts = order.slice(0, Math.ceil(order.length / 50)).map((k) => {
      const e = ev.get(idOf[k] ?? '')
      const t0 = origin + (sentAtOf[k] ?? 0)
      const seen = t0 + (latencies[k] ?? 0)
      return e ? [e.r.getTime() - t0, e.p.getTime() - e.r.getTime(), seen - e.p.getTime()] : [0, 0, 0]
    })
    const med = (i: number) => {
      const v = parts.map((x) => x[i] ?? 0).sort((a, b) => a - b)
      return `${percentile(v, 0.5).toFixed(0)}/${percentile(v, 0.9).toFixed(0)}`
    }
    console.log(`  slowest 2%: http ${med(0)}, to round ${med(1)}, round to seen ${med(2)} ms (p50/p90)`)
  }
  const sorted = latencies.sort((a, b) => a - b)
  const p50 = percentile(sorted, 0.5)
  const p99 = percentile(sorted, 0.99)
  return `ingest → outbox: ${measured} events at ${Math.round(total / sendSeconds)}/s over HTTP after ${warmup} s of warm-up, ${latencies.length} messages, ${errors} errors${failures.size ? ` (${[...failures].map(([k, n]) => `${k}: ${n}`).join(', ')})` : ''}, ${sentAt.size} missing; p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${(sorted.at(-1) ?? Number.NaN).toFixed(1)} ms   target p99 < 100 ms   ${p99 < 100 && sentAt.size === 0 ? 'MET' : 'MISSED'}
  messages by status at the cut-off: ${statuses.map((r) => `${r.status} ${r.n}`).join(', ')}`
}

/** Each part in a database of its own: the first part's backlog must not queue ahead of the second's. */
async function inFreshDatabase(
  suffix: string,
  run: (db: Db, dbUrl: string) => Promise<string>,
): Promise<void> {
  const name = `${database}_${suffix}`
  const dbUrl = Object.assign(new URL(url), { pathname: `/${name}` }).toString()
  const admin = await fromPg(url, { max: 1 })
  await admin.exec(`CREATE DATABASE ${name}`)
  try {
    const db = await fromPg(dbUrl, { max: 12 })
    try {
      await migrate(db)
      await ensureDefaultWorkspace(db, { writeKey: WRITE_KEY })
      console.log(await run(db, dbUrl))
    } finally {
      await db.close()
    }
  } finally {
    if (process.env.BENCH_KEEP) console.log(`  database kept: ${name}`)
    else await admin.exec(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    await admin.close()
  }
}

if (part !== 'latency') await inFreshDatabase('timers', (db) => timersPerSecond(db))
if (part !== 'timers') await inFreshDatabase('latency', (db, dbUrl) => ingestToOutbox(db, dbUrl))
