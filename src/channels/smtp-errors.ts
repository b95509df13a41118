// What an SMTP failure means for the dispatcher. RFC 5321: 4yz replies are transient,
// 5yz permanent; a 5yz to RCPT TO is the recipient refused (a hard bounce), while a 5yz to
// MAIL FROM or AUTH says our own setup is wrong and every mail would fail alike.
import type { SendFailure } from './types.ts'
import { failure } from './types.ts'

interface SmtpErrorLike {
  readonly code?: string | undefined
  readonly originalCode?: string | undefined
  readonly command?: string | undefined
  readonly response?: string | undefined
  readonly responseCode?: number | undefined
  readonly message?: string | undefined
  readonly rejectedErrors?: readonly SmtpErrorLike[] | undefined
}

const CONFIG_CODES = new Set(['EAUTH', 'ENOAUTH', 'EOAUTH2', 'ECONFIG', 'ETLS', 'EREQUIRETLS'])

export function classifySmtpError(raw: unknown): SendFailure {
  const err = (raw ?? {}) as SmtpErrorLike
  // A single recipient refused at RCPT TO carries its reply on the per-recipient error.
  const inner = err.rejectedErrors?.[0]
  const responseCode = err.responseCode ?? inner?.responseCode
  const command = (err.command ?? inner?.command ?? '').toUpperCase()
  const text = (err.response ?? inner?.response ?? err.message ?? 'SMTP error').trim()
  const status = responseCode === undefined ? {} : { status: responseCode }

  if (err.code && CONFIG_CODES.has(err.code)) {
    return failure(
      'misconfigured',
      `SMTP ${err.code === 'ETLS' ? 'TLS' : 'authentication'} failed: ${text}`,
      status,
    )
  }
  if (responseCode !== undefined) {
    if (command.startsWith('AUTH') || responseCode === 530 || responseCode === 535) {
      return failure('misconfigured', `SMTP authentication failed: ${text}`, status)
    }
    if (responseCode >= 400 && responseCode < 500) return failure('retryable', text, status)
    // 503 is "bad sequence of commands": the session was confused, not the message refused.
    if (responseCode === 503) return failure('retryable', text, status)
    if (responseCode >= 500) {
      if (command.startsWith('RCPT')) return failure('rejected', text, { ...status, bounce: 'hard' })
      if (command.startsWith('MAIL')) return failure('misconfigured', `sender refused: ${text}`, status)
      // Refused after DATA: this message (content, size, policy) will not go, but the address is fine.
      return failure('rejected', text, status)
    }
  }
  // No SMTP reply at all: the server is down, refused the connection, or went silent.
  const code = err.originalCode ?? err.code ?? 'unknown'
  return failure('retryable', `SMTP connection failed (${code}): ${err.message ?? text}`)
}
