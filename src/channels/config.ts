// Channel configs are checked with zod once, where they enter (env, config file, admin
// API); a wrong value comes back as issues with a path, never as a crash at send time.
import type { z } from 'zod'
import type { ConfigResult } from './types.ts'

export function validateWith<S extends z.ZodType>(schema: S, raw: unknown): ConfigResult<z.output<S>> {
  const parsed = schema.safeParse(raw)
  if (parsed.success) return { ok: true, config: parsed.data }
  return {
    ok: false,
    issues: parsed.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message })),
  }
}

/** Reads a response body for an error reason without trusting its size. */
export async function shortBody(res: Response, max = 300): Promise<string> {
  try {
    const text = await res.text()
    return text.length > max ? `${text.slice(0, max)}…` : text
  } catch {
    return ''
  }
}

/** Combines the caller's abort signal with a timeout. */
export function withTimeout(ms: number, signal: AbortSignal | undefined): AbortSignal {
  const timeout = AbortSignal.timeout(ms)
  return signal ? AbortSignal.any([signal, timeout]) : timeout
}

/** True when the error is the timeout of `withTimeout` rather than the caller aborting. */
export function isTimeout(err: unknown): boolean {
  return (
    err instanceof Error &&
    (err.name === 'TimeoutError' || (err.cause as Error | undefined)?.name === 'TimeoutError')
  )
}
