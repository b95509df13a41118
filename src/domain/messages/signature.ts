// Webhook signatures: `Nudge-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`.
// The timestamp inside the signed string lets receivers refuse replays of old deliveries;
// several v1 values may appear while a secret is being rotated.
import { createHmac, timingSafeEqual } from 'node:crypto'

export const SIGNATURE_HEADER = 'Nudge-Signature'

export function signWebhook(secret: string, body: string, unixSeconds: number): string {
  const mac = createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex')
  return `t=${unixSeconds},v1=${mac}`
}

export type VerifyResult = { ok: true } | { ok: false; reason: 'malformed' | 'mismatch' | 'too-old' }

/** For receivers: checks the header against the raw body, within a replay window. */
export function verifyWebhookSignature(
  secret: string,
  header: string | undefined,
  body: string,
  nowUnixSeconds: number,
  toleranceSeconds = 300,
): VerifyResult {
  if (!header) return { ok: false, reason: 'malformed' }
  let t: number | undefined
  const candidates: string[] = []
  for (const part of header.split(',')) {
    const [k, v] = part.trim().split('=', 2)
    if (k === 't' && v && /^\d+$/.test(v)) t = Number(v)
    else if (k === 'v1' && v && /^[0-9a-f]{64}$/.test(v)) candidates.push(v)
  }
  if (t === undefined || candidates.length === 0) return { ok: false, reason: 'malformed' }
  if (Math.abs(nowUnixSeconds - t) > toleranceSeconds) return { ok: false, reason: 'too-old' }
  const expected = Buffer.from(createHmac('sha256', secret).update(`${t}.${body}`).digest('hex'))
  const match = candidates.some((c) => timingSafeEqual(Buffer.from(c), expected))
  return match ? { ok: true } : { ok: false, reason: 'mismatch' }
}
