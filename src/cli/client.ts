// The CLI's view of a running Nudge: its admin API (Bearer admin key) and its
// ingest API (write key as the Basic user). Configured by NUDGE_URL,
// NUDGE_ADMIN_KEY and NUDGE_WRITE_KEY; every failure becomes a message that says
// what to do.

/** An expected failure: main prints its message alone and exits 1. */
export class CliError extends Error {
  /** The HTTP status Nudge answered with, when it answered. */
  readonly status: number | undefined
  constructor(message: string, status?: number) {
    super(message)
    this.status = status
  }
}

export interface ClientConfig {
  readonly url: string
  readonly adminKey: string | undefined
  readonly writeKey: string | undefined
}

export function clientConfig(env: Record<string, string | undefined> = process.env): ClientConfig {
  return {
    url: (env.NUDGE_URL || 'http://localhost:3000').replace(/\/+$/, ''),
    adminKey: env.NUDGE_ADMIN_KEY || undefined,
    writeKey: env.NUDGE_WRITE_KEY || undefined,
  }
}

export interface Client {
  readonly url: string
  /** Calls the admin API; resolves to the JSON answer of a 2xx. */
  admin<T>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<T>
  /** Posts a raw JSON body to the ingest API with the write key. */
  ingest<T>(path: string, json: string): Promise<{ status: number; body: T }>
}

interface ErrorBody {
  error?: { code?: string; message?: string; issues?: { path: string; message: string; hint?: string }[] }
}

function describe(status: number, body: unknown): string {
  const e = (body as ErrorBody | undefined)?.error
  if (!e?.message) return `Nudge answered HTTP ${status}`
  const issues = (e.issues ?? [])
    .map((i) => `\n  ${i.path}: ${i.message}${i.hint ? ` (${i.hint})` : ''}`)
    .join('')
  return `Nudge answered HTTP ${status} ${e.code ?? ''}: ${e.message}${issues}`
}

export function makeClient(config: ClientConfig = clientConfig()): Client {
  async function send(path: string, init: RequestInit): Promise<{ status: number; body: unknown }> {
    let res: Response
    try {
      res = await fetch(`${config.url}${path}`, init)
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause
      throw new CliError(
        `Cannot reach Nudge at ${config.url} (${cause?.code ?? cause?.message ?? String(err)}). ` +
          'Is the server running ("npx nudge start")? Set NUDGE_URL to its address.',
      )
    }
    const text = await res.text()
    let body: unknown
    try {
      body = text ? JSON.parse(text) : undefined
    } catch {
      body = undefined
    }
    return { status: res.status, body }
  }

  return {
    url: config.url,
    async admin<T>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<T> {
      if (!config.adminKey)
        throw new CliError(
          'NUDGE_ADMIN_KEY is not set: export the admin key printed by the first "nudge start" ' +
            '(or create one with "nudge keys create --kind admin --direct" while the server is stopped).',
        )
      const res = await send(path, {
        method,
        headers: {
          authorization: `Bearer ${config.adminKey}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      })
      if (res.status >= 400) throw new CliError(describe(res.status, res.body), res.status)
      return res.body as T
    },
    async ingest<T>(path: string, json: string) {
      if (!config.writeKey)
        throw new CliError(
          'NUDGE_WRITE_KEY is not set: export the write key printed by the first "nudge start" ' +
            '(or create one with "nudge keys create --kind write").',
        )
      const res = await send(path, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${config.writeKey}:`).toString('base64')}`,
          'content-type': 'application/json',
        },
        body: json,
      })
      if (res.status === 401 || res.status === 403) throw new CliError(describe(res.status, res.body))
      return { status: res.status, body: res.body as T }
    },
  }
}
