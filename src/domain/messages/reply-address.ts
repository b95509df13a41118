// Reply addresses: mail "from a person" carries Reply-To: reply+<handle>@<inbound domain>,
// and what comes back to that address is threaded to the member and the message. The
// handle is an HMAC of (workspace, profile, message) with the workspace's reply secret:
// unguessable, so nobody can post a reply into someone else's thread, and deterministic,
// so a retried send gets the same address. It is lower-case base32 (24 characters) because
// a local part is at most 64 octets and some mail systems fold its case.
import { createHmac } from 'node:crypto'

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567'

/** Lower-case RFC 4648 base32 without padding: survives mail systems that fold a local part's case. */
export function base32(bytes: Uint8Array): string {
  let out = ''
  let bits = 0
  let value = 0
  for (const b of bytes) {
    value = (value << 8) | b
    bits += 8
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31]
      bits -= 5
    }
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31]
  return out
}

export interface ReplyThread {
  readonly workspaceId: string
  readonly profileId: string
  readonly messageId: string
}

/** The handle of a message's reply address; `replySecret` is derivedSecret(link secret, 'reply'). */
export function replyHandle(replySecret: string, t: ReplyThread): string {
  const mac = createHmac('sha256', replySecret)
    .update(`${t.workspaceId}\n${t.profileId}\n${t.messageId}`)
    .digest()
  return base32(mac.subarray(0, 15))
}

export function replyAddressOf(handle: string, domain: string): string {
  return `reply+${handle}@${domain}`
}

const ADDRESS = /^reply\+([a-z2-7]{24})@[^@\s]+$/i

/** The handle in an address like reply+<handle>@example.com, or undefined. */
export function handleOfAddress(address: string): string | undefined {
  const m = ADDRESS.exec(address.trim().replace(/^<|>$/g, ''))
  return m?.[1]?.toLowerCase()
}

// Lines that start the quoted original in common clients, English and French.
const QUOTE_HEADERS = [
  /^On .{1,200}wrote:\s*$/,
  /^Le .{1,200}a écrit\s*:\s*$/,
  /^-{2,}\s*Original Message\s*-{2,}/i,
  /^-{2,}\s*Message d'origine\s*-{2,}/i,
  /^From:\s.+$/,
  /^De\s?:\s.+$/,
  /^_{10,}$/,
]

/**
 * The reply without the quoted original and trailing signature marker, for a manager's
 * list and the event's excerpt. The full text is stored as well.
 */
export function stripQuoted(text: string): string {
  const lines = text.replace(/\r\n/g, '\n').split('\n')
  let end = lines.length
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? ''
    // Gmail wraps a long "On ... wrote:" over two lines.
    const joined = `${line} ${lines[i + 1] ?? ''}`
    if (QUOTE_HEADERS.some((re) => re.test(line) || (i + 1 < lines.length && re.test(joined.trim())))) {
      end = i
      break
    }
    if (line === '-- ') {
      end = i
      break
    }
  }
  const kept = lines.slice(0, end).filter((l) => !l.startsWith('>'))
  return kept.join('\n').trim()
}
