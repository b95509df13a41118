// Load generator, run as a child process so it does not share the servers' event
// loop: POSTs Segment-shaped events with unique messageIds for a fixed duration.
import autocannon from 'autocannon'
import { cpuMsSince } from './cpu.ts'

export interface LoadJob {
  readonly url: string
  readonly path: string
  readonly writeKey: string
  /** Events per request; 0 sends one bare event (POST /v1/track style). */
  readonly batchSize: number
  readonly connections: number
  readonly seconds: number
  readonly tag: string
}

export interface LoadResult {
  readonly ok: number
  readonly failed: number
  readonly seconds: number
  readonly latencyP50: number
  readonly latencyP99: number
  /** CPU time the load generator itself used while loading (user + system). */
  readonly cpuMs: number
}

const job = JSON.parse(process.argv[2] ?? '{}') as LoadJob
let seq = 0
const sentAt = new Date().toISOString()

function event(withType: boolean): string {
  const n = ++seq
  const user = n % 1000
  return `{${withType ? '"type":"track",' : ''}"userId":"user-${user}","event":"Post Created","messageId":"${job.tag}-${n}","timestamp":"${sentAt}","properties":{"forum":"photo-beginners","words":${n % 500},"tags":["tips","lens"],"first":${n % 7 === 0}},"context":{"library":{"name":"analytics-node","version":"3.1.0"},"ip":"203.0.113.${user % 250}","locale":"fr-FR"},"integrations":{},"_metadata":{"nodeVersion":"24.21.0","jsRuntime":"node"}}`
}

function body(): string {
  if (job.batchSize === 0) return event(false)
  const items: string[] = []
  for (let i = 0; i < job.batchSize; i++) items.push(event(true))
  return `{"batch":[${items.join(',')}],"sentAt":"${sentAt}"}`
}

const cpuBefore = process.cpuUsage()
const result = await autocannon({
  url: job.url,
  connections: job.connections,
  duration: job.seconds,
  requests: [
    {
      method: 'POST',
      path: job.path,
      headers: {
        'content-type': 'application/json',
        authorization: `Basic ${Buffer.from(`${job.writeKey}:`).toString('base64')}`,
      },
      setupRequest: (req) => ({ ...req, body: body() }),
    },
  ],
})
const out: LoadResult = {
  ok: result['2xx'],
  failed: result.non2xx + result.errors + result.timeouts,
  seconds: result.duration,
  latencyP50: result.latency.p50,
  latencyP99: result.latency.p99,
  cpuMs: cpuMsSince(cpuBefore),
}
process.send?.(out)
