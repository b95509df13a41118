// NDJSON: one Segment message per line (identify, track, page, screen, group, alias).
// Lines that are not JSON objects are rejected here with their line number; the
// server validates the rest.
import { createReadStream } from 'node:fs'
import { createInterface } from 'node:readline'
import { importMessageId } from './message-id.ts'
import type { Sender } from './sender.ts'

export async function readNdjson(
  file: string,
  sender: Sender,
  onProgress: (bytesRead: number, lines: number) => void,
): Promise<number> {
  const stream = createReadStream(file)
  const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY })
  let n = 0
  for await (const line of lines) {
    n++
    if (line.trim() === '') continue
    let event: unknown
    try {
      event = JSON.parse(line)
    } catch (err) {
      sender.reject(n, `not JSON (${(err as Error).message})`)
      continue
    }
    if (!event || typeof event !== 'object' || Array.isArray(event)) {
      sender.reject(n, 'not a JSON object (each line must be one Segment message)')
      continue
    }
    const msg = event as Record<string, unknown>
    if (msg.messageId === undefined) msg.messageId = importMessageId(line)
    await sender.add(n, JSON.stringify(msg))
    onProgress(stream.bytesRead, n)
  }
  return n
}
