// CSV of profiles: a header row, then one person per row. `userId` (or user_id),
// `anonymousId` (or anonymous_id) and `email` identify the person; every other
// non-empty column becomes a trait. Each row is sent as an identify call.
import { createReadStream } from 'node:fs'
import { parse } from 'csv-parse'
import { importMessageId } from './message-id.ts'
import type { Sender } from './sender.ts'

const USER_ID = new Set(['userid', 'user_id'])
const ANONYMOUS_ID = new Set(['anonymousid', 'anonymous_id'])

export async function readCsv(
  file: string,
  sender: Sender,
  onProgress: (bytesRead: number, rows: number) => void,
): Promise<number> {
  const stream = createReadStream(file)
  const parser = stream.pipe(
    parse({
      columns: (header: string[]) => header.map((h) => h.trim()),
      bom: true,
      skip_empty_lines: true,
      info: true,
      skip_records_with_error: true,
    }),
  )
  parser.on('skip', (err: Error & { lines?: number }) => {
    sender.reject(err.lines ?? 0, err.message.replace(/^Invalid Record Length: /, ''))
  })
  let rows = 0
  for await (const item of parser as AsyncIterable<{
    record: Record<string, string>
    info: { lines: number }
  }>) {
    rows++
    const line = item.info.lines
    let userId: string | undefined
    let anonymousId: string | undefined
    const traits: Record<string, string> = {}
    for (const [column, raw] of Object.entries(item.record)) {
      const value = raw.trim()
      if (value === '') continue
      const key = column.toLowerCase()
      if (USER_ID.has(key)) userId = value
      else if (ANONYMOUS_ID.has(key)) anonymousId = value
      else traits[key === 'email' ? 'email' : column] = value
    }
    // Without a userId, the email stands in as a stable anonymous identity for the person.
    if (!userId && !anonymousId && traits.email) anonymousId = `email:${traits.email.toLowerCase()}`
    if (!userId && !anonymousId) {
      sender.reject(line, 'no userId, anonymousId or email')
      continue
    }
    const message = {
      type: 'identify',
      ...(userId ? { userId } : {}),
      ...(anonymousId ? { anonymousId } : {}),
      traits,
    }
    const json = JSON.stringify(message)
    await sender.add(line, JSON.stringify({ ...message, messageId: importMessageId(json) }))
    onProgress(stream.bytesRead, rows)
  }
  return rows
}
