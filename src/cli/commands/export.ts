// nudge export profiles|events [--format ndjson|csv] [--out file]
// Pages through the admin API and writes each page as it arrives, so memory stays
// flat whatever the size of the workspace.

import { once } from 'node:events'
import { createWriteStream } from 'node:fs'
import type { Writable } from 'node:stream'
import { type Args, flag, UsageError } from '../args.ts'
import { makeClient } from '../client.ts'

const PAGE = 1000

type Item = Record<string, unknown>

/** CSV columns; nested values (traits, payload) are written as JSON in one cell. */
const COLUMNS = {
  profiles: ['id', 'userId', 'email', 'timezone', 'firstSeenAt', 'lastSeenAt', 'createdAt', 'traits'],
  events: [
    'seq',
    'messageId',
    'type',
    'name',
    'userId',
    'anonymousId',
    'profileId',
    'timestamp',
    'receivedAt',
    'payload',
  ],
} as const

function cell(v: unknown): string {
  if (v === null || v === undefined) return ''
  const s = typeof v === 'object' ? JSON.stringify(v) : String(v)
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s
}

function csvRow(what: keyof typeof COLUMNS, item: Item): string {
  const traits = (item.traits ?? {}) as Item
  return COLUMNS[what].map((c) => cell(c === 'email' ? traits.email : item[c])).join(',')
}

async function write(out: Writable, chunk: string): Promise<void> {
  if (!out.write(chunk)) await once(out, 'drain')
}

export async function exportData(args: Args): Promise<void> {
  const what = args.positionals[0]
  if (what !== 'profiles' && what !== 'events')
    throw new UsageError('Usage: nudge export profiles|events [--format ndjson|csv] [--out file]')
  const format = flag(args, 'format') ?? 'ndjson'
  if (format !== 'ndjson' && format !== 'csv') throw new UsageError('--format must be ndjson or csv')
  const client = makeClient()
  const file = flag(args, 'out')
  const out: Writable = file ? createWriteStream(file) : process.stdout

  let count = 0
  let cursor: string | null = null
  if (format === 'csv') await write(out, `${COLUMNS[what].join(',')}\n`)
  do {
    const query = new URLSearchParams({ limit: String(PAGE), ...(cursor ? { cursor } : {}) })
    const page: { items: Item[]; nextCursor: string | null } = await client.admin(
      'GET',
      `/api/v1/${what}?${query}`,
    )
    const text = page.items.map((i) => (format === 'csv' ? csvRow(what, i) : JSON.stringify(i))).join('\n')
    if (text) await write(out, `${text}\n`)
    count += page.items.length
    cursor = page.nextCursor
  } while (cursor)

  if (file) {
    out.end()
    await once(out, 'finish')
    process.stderr.write(`Exported ${count} ${what} to ${file}\n`)
  }
}
