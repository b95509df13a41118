// Channel configs hold secrets (webhook signing keys, Twilio tokens, VAPID private keys,
// SMTP passwords). They are shown back with every secret replaced by a mask, and a config
// sent back with the mask in place keeps the stored secret, so "GET, edit, PUT" works.

export const MASK = '********'

const SECRET_KEY = /secret|token|password|privatekey|signingkey|authorization|^pass$/i

function maskUrl(url: string): string {
  return url.replace(/^([a-z]+:\/\/[^:/@]*:)[^@/]*@/i, `$1${MASK}@`)
}

/** A copy with every secret masked: fields named like a secret, URL passwords, extra headers. */
export function redactConfig(value: unknown, key = ''): unknown {
  if (typeof value === 'string') {
    if (SECRET_KEY.test(key)) return MASK
    return key === 'url' ? maskUrl(value) : value
  }
  if (Array.isArray(value)) return value.map((v) => redactConfig(v))
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
    if (key === 'headers') return Object.fromEntries(entries.map(([k]) => [k, MASK]))
    return Object.fromEntries(entries.map(([k, v]) => [k, redactConfig(v, k)]))
  }
  return value
}

/** Puts the stored secrets back where `incoming` still carries the mask. */
export function unmaskConfig(incoming: unknown, stored: unknown, key = ''): unknown {
  if (typeof incoming === 'string') {
    if (incoming === MASK && typeof stored === 'string') return stored
    if (key === 'url' && incoming.includes(`:${MASK}@`) && typeof stored === 'string') {
      const password = /^[a-z]+:\/\/[^:/@]*:([^@/]*)@/i.exec(stored)?.[1]
      return password === undefined ? incoming : incoming.replace(`:${MASK}@`, `:${password}@`)
    }
    return incoming
  }
  if (Array.isArray(incoming))
    return incoming.map((v, i) => unmaskConfig(v, Array.isArray(stored) ? stored[i] : undefined))
  if (incoming && typeof incoming === 'object') {
    const s = stored && typeof stored === 'object' ? (stored as Record<string, unknown>) : {}
    return Object.fromEntries(
      Object.entries(incoming as Record<string, unknown>).map(([k, v]) => [k, unmaskConfig(v, s[k], k)]),
    )
  }
  return incoming
}
