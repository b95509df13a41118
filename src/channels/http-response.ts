// What an HTTP status means for a delivery; shared by the webhook and SMS channels.
import { parseRetryAfter } from '../domain/messages/retry.ts'
import { shortBody } from './config.ts'
import type { SendResult } from './types.ts'
import { failure } from './types.ts'

export async function interpretResponse(res: Response, now: Date, providerId: string): Promise<SendResult> {
  const status = res.status
  if (status >= 200 && status < 300) {
    await res.body?.cancel()
    return { ok: true, providerId, detail: `HTTP ${status}` }
  }
  const text = await shortBody(res)
  const reason = `HTTP ${status}${text ? `: ${text}` : ''}`
  const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'), now)
  const extra = { status, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) }
  if (status >= 300 && status < 400) {
    return failure(
      'misconfigured',
      `the URL redirects to ${res.headers.get('location') ?? '?'}: configure the final URL`,
      extra,
    )
  }
  if (status === 408 || status === 425 || status === 429 || status >= 500)
    return failure('retryable', reason, extra)
  // The receiver does not accept our credentials or signature: every message would fail alike.
  if (status === 401 || status === 403) return failure('misconfigured', reason, extra)
  return failure('rejected', reason, extra)
}
