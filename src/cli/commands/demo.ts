// `nudge demo`: fills a workspace with a realistic community through the normal ingest
// path (POST /v1/batch with the write key), so stages, scores, badges and reports have
// something to show.

import { type Args, flag, UsageError } from '../args.ts'
import { community } from '../demo/community.ts'
import { makeProgress } from '../progress.ts'

const MAX_BATCH_BYTES = 450 * 1024

export async function demo(args: Args): Promise<void> {
  const url = (process.env.NUDGE_URL ?? 'http://localhost:3000').replace(/\/$/, '')
  const writeKey = flag(args, 'write-key') ?? process.env.NUDGE_WRITE_KEY
  if (!writeKey)
    throw new UsageError(
      'Set NUDGE_WRITE_KEY (or --write-key) to the workspace write key printed by `nudge start`.',
    )
  const members = Number(flag(args, 'members') ?? 10_000)
  const days = Number(flag(args, 'days') ?? 182)
  const seed = Number(flag(args, 'seed') ?? 1)
  const concurrency = Number(flag(args, 'concurrency') ?? 4)
  for (const [name, v] of [
    ['members', members],
    ['days', days],
    ['seed', seed],
    ['concurrency', concurrency],
  ] as const) {
    if (!Number.isInteger(v) || v < 1) throw new UsageError(`--${name} must be a positive integer (got ${v})`)
  }
  const auth = `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}`
  const opts = { members, days, seed, end: new Date() }
  // The generator is cheap; a first pass gives the progress bar its total.
  let total = 0
  for (const _ of community(opts)) total++
  const bar = makeProgress(total)
  let sent = 0
  let rejected = 0

  async function post(batch: string[]): Promise<void> {
    const body = `{"batch":[${batch.join(',')}]}`
    for (let attempt = 1; ; attempt++) {
      let res: Response
      try {
        res = await fetch(`${url}/v1/batch`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: auth },
          body,
        })
      } catch (err) {
        if (attempt >= 5)
          throw new Error(`Cannot reach ${url}: ${(err as Error).message}. Is \`nudge start\` running?`)
        await new Promise((r) => setTimeout(r, 200 * 2 ** attempt))
        continue
      }
      if (res.status === 401) throw new UsageError(`The server at ${url} refused the write key (401).`)
      if (res.status >= 500 && attempt < 5) {
        await new Promise((r) => setTimeout(r, 200 * 2 ** attempt))
        continue
      }
      if (!res.ok) throw new Error(`POST /v1/batch answered ${res.status}: ${await res.text()}`)
      const out = (await res.json()) as { rejected?: unknown[] }
      rejected += out.rejected?.length ?? 0
      sent += batch.length
      bar.update(sent, `${sent}/${total} events`)
      return
    }
  }

  const inflight = new Set<Promise<void>>()
  let batch: string[] = []
  let bytes = 0
  const flush = async () => {
    const p = post(batch).finally(() => inflight.delete(p))
    inflight.add(p)
    batch = []
    bytes = 0
    if (inflight.size >= concurrency) await Promise.race(inflight)
  }
  for (const call of community(opts)) {
    const json = JSON.stringify(call)
    if (bytes + json.length > MAX_BATCH_BYTES) await flush()
    batch.push(json)
    bytes += json.length + 1
  }
  if (batch.length) await flush()
  await Promise.all(inflight)
  bar.finish(`Sent ${sent} events for ${members} members over ${days} days (${rejected} rejected).`)
}
