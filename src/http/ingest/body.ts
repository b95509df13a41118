// Request bodies for ingest: JSON, optionally gzip-encoded. The decompressed size is
// capped while inflating (a small gzip bomb never grows past the limit in memory),
// and bytes that are not valid UTF-8 are refused rather than silently replaced.
import { isUtf8 } from 'node:buffer'
import { promisify } from 'node:util'
import { gunzip, inflate } from 'node:zlib'
import { NudgeError } from '../../domain/errors.ts'
import { MAX_REQUEST_BYTES } from '../../domain/events/limits.ts'

const gunzipAsync = promisify(gunzip)
const inflateAsync = promisify(inflate)

export interface IngestBody {
  readonly value: unknown
  /** Bytes after decompression. */
  readonly bytes: number
  /** The JSON text has no `\u` escape: see NormalizeContext.plainText. */
  readonly plainText: boolean
}

export const tooLarge = (): NudgeError =>
  new NudgeError(
    'NUDGE_ERR_BATCH_TOO_LARGE',
    `The request body is larger than 500 KB (${MAX_REQUEST_BYTES} bytes) after decompression; send smaller batches`,
  )

async function decode(raw: Buffer, encoding: string | undefined): Promise<Buffer> {
  const enc = (encoding ?? 'identity').trim().toLowerCase()
  if (enc === 'identity' || enc === '') return raw
  const inflater =
    enc === 'gzip' || enc === 'x-gzip' ? gunzipAsync : enc === 'deflate' ? inflateAsync : undefined
  if (!inflater)
    throw new NudgeError(
      'NUDGE_ERR_INVALID_ENCODING',
      `Content-Encoding "${enc}" is not supported; send gzip or no encoding`,
    )
  try {
    return await inflater(raw, { maxOutputLength: MAX_REQUEST_BYTES })
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge()
    throw new NudgeError(
      'NUDGE_ERR_INVALID_ENCODING',
      `The body is not valid ${enc} data (Content-Encoding: ${enc}): ${(err as Error).message}`,
    )
  }
}

export async function parseIngestBody(raw: Buffer, encoding: string | undefined): Promise<IngestBody> {
  const buf = await decode(raw, encoding)
  if (buf.length > MAX_REQUEST_BYTES) throw tooLarge()
  if (!isUtf8(buf)) throw new NudgeError('NUDGE_ERR_INVALID_ENCODING', 'The body is not valid UTF-8')
  let text = buf.toString('utf8')
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1)
  try {
    return { value: JSON.parse(text), bytes: buf.length, plainText: !text.includes('\\u') }
  } catch (err) {
    throw new NudgeError('NUDGE_ERR_INVALID_JSON', `The body is not valid JSON: ${(err as Error).message}`)
  }
}
