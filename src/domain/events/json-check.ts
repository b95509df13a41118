// One walk over an event as received: rejects what PostgreSQL's jsonb cannot hold
// (NUL characters, lone UTF-16 surrogates) and nesting past the documented limit,
// so that a bad event is a 400 for its sender, never a failed write for everyone
// whose events share the same group commit.
import type { ErrorIssue } from '../errors.ts'
import { MAX_NESTING_DEPTH } from './limits.ts'

/** Appends `key` to a path the way users read it: `properties.a`, `batch[3]`, `["odd key"]`. */
export function joinPath(base: string, key: string | number): string {
  if (typeof key === 'number') return `${base}[${key}]`
  if (/^[A-Za-z_$][\w$]*$/.test(key)) return base ? `${base}.${key}` : key
  return `${base}[${JSON.stringify(key)}]`
}

function badString(s: string): string | undefined {
  if (s.includes('\u0000')) return 'contains a NUL character (\\u0000), which cannot be stored'
  if (!s.isWellFormed()) return 'contains an unpaired UTF-16 surrogate, which is not valid Unicode'
  return undefined
}

export interface JsonCheck {
  readonly issues: ErrorIssue[]
  /**
   * An upper bound of the UTF-8 bytes of the event's JSON (every UTF-16 unit
   * counted as a 6-byte escape). Only events whose bound passes the limit need to
   * be serialised to know their exact size.
   */
  readonly maxBytes: number
}

/**
 * Checks an event's top-level fields; `prefix` is e.g. "batch[3]" or "". Stops at 20 issues.
 * `strings: false` skips the per-string checks, for events parsed from JSON text
 * known to hold neither (see NormalizeContext.plainText).
 */
export function checkEventJson(
  event: Record<string, unknown>,
  prefix: string,
  opts: { readonly strings?: boolean } = {},
): JsonCheck {
  const strings = opts.strings !== false
  const issues: ErrorIssue[] = []
  let maxBytes = 0
  // Keys from the event down to the current value; a path string is only built
  // when there is an issue to report (this walk is on the ingest hot path).
  const keys: Array<string | number> = []
  const report = (message: string): void => {
    issues.push({ path: keys.reduce<string>(joinPath, prefix), message })
  }
  const walk = (value: unknown, depth: number): void => {
    if (issues.length >= 20) return
    if (typeof value === 'string') {
      maxBytes += 2 + 6 * value.length
      const why = strings ? badString(value) : undefined
      if (why) report(why)
      return
    }
    if (value === null || typeof value !== 'object') {
      maxBytes += 25 // the longest number, true, false, null
      return
    }
    maxBytes += 2
    if (depth > MAX_NESTING_DEPTH) {
      report(`is nested deeper than ${MAX_NESTING_DEPTH} levels (the limit)`)
      return
    }
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        maxBytes += 1
        keys.push(i)
        walk(value[i], depth + 1)
        keys.pop()
      }
      return
    }
    for (const key in value) {
      maxBytes += 4 + 6 * key.length
      keys.push(key)
      const why = strings ? badString(key) : undefined
      if (why) report(`has a key that ${why}`)
      walk((value as Record<string, unknown>)[key], depth + 1)
      keys.pop()
    }
  }
  walk(event, 0)
  return { issues, maxBytes }
}
