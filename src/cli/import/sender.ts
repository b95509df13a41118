// Sends events to POST /v1/batch in requests under the ingest limit, and turns the
// answers into a summary with the file's line numbers.
//
// Expected answer of /v1/batch: 200 with
//   { rejected?: [{ index, message?, reason?, issues?: [{ path, message }] }],
//     duplicates?: number | number[] }
// Indexes are positions in the batch; anything not rejected nor duplicate was stored.
import type { Client } from '../client.ts'
import { CliError } from '../client.ts'

/** Under the 500 KB request limit, leaving room for the envelope. */
const MAX_REQUEST_BYTES = 480 * 1024
/** Ingest refuses larger events; refusing them here keeps a request from failing whole. */
export const MAX_EVENT_BYTES = 32 * 1024
const RETRIES = 5

export interface Rejection {
  readonly line: number
  readonly reason: string
}

export interface Summary {
  accepted: number
  duplicates: number
  readonly rejected: Rejection[]
}

interface BatchAnswer {
  rejected?: {
    index: number
    message?: string
    reason?: string
    issues?: { path: string; message: string }[]
  }[]
  duplicates?: number | number[]
}

export interface Sender {
  /** Queues one event (already JSON) read at `line`; sends when a request is full. */
  add(line: number, json: string): Promise<void>
  reject(line: number, reason: string): void
  /** Sends what is queued and returns the summary. */
  finish(): Promise<Summary>
}

function reasonOf(r: NonNullable<BatchAnswer['rejected']>[number]): string {
  const issues = (r.issues ?? []).map(
    (i) => `${i.path.replace(/^batch\[\d+\]\.?/, '') || '(event)'}: ${i.message}`,
  )
  return issues.length ? issues.join('; ') : (r.message ?? r.reason ?? 'rejected')
}

export function makeSender(
  client: Client,
  sleep = (ms: number) => new Promise((r) => setTimeout(r, ms)),
): Sender {
  const summary: Summary = { accepted: 0, duplicates: 0, rejected: [] }
  let lines: number[] = []
  let parts: string[] = []
  let bytes = 0

  async function post(json: string): Promise<BatchAnswer> {
    // Retrying is safe: every event has a messageId, so a repeat is a duplicate, not a copy.
    for (let attempt = 0; ; attempt++) {
      let res: { status: number; body: BatchAnswer }
      try {
        res = await client.ingest<BatchAnswer>('/v1/batch', json)
      } catch (err) {
        if (attempt >= RETRIES || !(err instanceof CliError) || !err.message.startsWith('Cannot reach'))
          throw err
        await sleep(500 * 2 ** attempt)
        continue
      }
      if (res.status < 300) return res.body ?? {}
      if (res.status >= 500 && attempt < RETRIES) {
        await sleep(500 * 2 ** attempt)
        continue
      }
      const e = (res.body as { error?: { message?: string } } | undefined)?.error
      throw new CliError(
        `Import stopped: /v1/batch answered HTTP ${res.status}: ${e?.message ?? 'no details'}`,
      )
    }
  }

  async function flush(): Promise<void> {
    if (parts.length === 0) return
    const sent = lines
    const answer = await post(`{"batch":[${parts.join(',')}]}`)
    lines = []
    parts = []
    bytes = 0
    const rejected = answer.rejected ?? []
    for (const r of rejected) summary.rejected.push({ line: sent[r.index] ?? -1, reason: reasonOf(r) })
    const dups = Array.isArray(answer.duplicates) ? answer.duplicates.length : (answer.duplicates ?? 0)
    summary.duplicates += dups
    summary.accepted += sent.length - rejected.length - dups
  }

  return {
    async add(line, json) {
      const size = Buffer.byteLength(json)
      if (size > MAX_EVENT_BYTES) {
        summary.rejected.push({
          line,
          reason: `the event is ${Math.ceil(size / 1024)} KB; the limit is 32 KB`,
        })
        return
      }
      if (bytes + size + 1 > MAX_REQUEST_BYTES) await flush()
      lines.push(line)
      parts.push(json)
      bytes += size + 1
    },
    reject(line, reason) {
      summary.rejected.push({ line, reason })
    },
    async finish() {
      await flush()
      summary.rejected.sort((a, b) => a.line - b.line)
      return summary
    },
  }
}
