// nudge keys list | create --kind write|admin [--name n] | revoke <id>
// Through the admin API of a running server, or with --direct on the database itself
// (DATABASE_URL / NUDGE_DATA_DIR) when no server is running.
import { loadConfig } from '../../config.ts'
import type { Db } from '../../store/db.ts'
import { migrate } from '../../store/migrate.ts'
import { openDb } from '../../store/open.ts'
import {
  createKey,
  DEFAULT_WORKSPACE,
  ensureDefaultWorkspace,
  type KeyKind,
  listKeys,
  revokeKey,
} from '../../store/workspaces.ts'
import { type Args, flag, UsageError } from '../args.ts'
import { CliError, makeClient } from '../client.ts'

interface KeyView {
  id: string
  kind: KeyKind
  name: string | null
  createdAt: string
  revokedAt: string | null
}

interface Keys {
  list(): Promise<KeyView[]>
  create(kind: KeyKind, name: string | undefined): Promise<{ id: string; kind: KeyKind; secret: string }>
  revoke(id: string): Promise<void>
}

const USAGE =
  'Usage: nudge keys list | create --kind write|admin [--name n] | revoke <id>  [--direct] [--json]'

function viaApi(): Keys {
  const api = makeClient()
  return {
    list: async () => (await api.admin<{ items: KeyView[] }>('GET', '/api/v1/keys')).items,
    create: (kind, name) => api.admin('POST', '/api/v1/keys', { kind, ...(name ? { name } : {}) }),
    revoke: async (id) => {
      await api.admin('DELETE', `/api/v1/keys/${encodeURIComponent(id)}`)
    },
  }
}

function viaDb(db: Db, workspaceId: string): Keys {
  return {
    list: async () =>
      (await listKeys(db, workspaceId)).map((k) => ({
        id: k.id,
        kind: k.kind,
        name: k.name,
        createdAt: k.createdAt.toISOString(),
        revokedAt: k.revokedAt?.toISOString() ?? null,
      })),
    create: (kind, name) => createKey(db, workspaceId, kind, { name }),
    revoke: async (id) => {
      if (!(await revokeKey(db, workspaceId, id))) throw new CliError(`No active key has the id "${id}"`)
    },
  }
}

async function run(args: Args, keys: Keys): Promise<void> {
  const [action, id] = args.positionals
  const json = args.flags.json === true
  const out = (s: string): void => {
    process.stdout.write(`${s}\n`)
  }
  switch (action) {
    case 'list': {
      const items = await keys.list()
      if (json) return out(JSON.stringify(items, null, 2))
      out(['id'.padEnd(36), 'kind '.padEnd(6), 'created'.padEnd(24), 'status ', 'name'].join('  '))
      for (const k of items)
        out(
          [
            k.id.padEnd(36),
            k.kind.padEnd(6),
            k.createdAt.padEnd(24),
            (k.revokedAt ? 'revoked' : 'active').padEnd(7),
            k.name ?? '',
          ].join('  '),
        )
      return
    }
    case 'create': {
      const kind = flag(args, 'kind')
      if (kind !== 'write' && kind !== 'admin')
        throw new UsageError(`--kind must be write or admin\n${USAGE}`)
      const key = await keys.create(kind, flag(args, 'name'))
      if (json) return out(JSON.stringify(key, null, 2))
      out(`Created ${kind} key ${key.id}`)
      out(`Secret (shown once; store it now): ${key.secret}`)
      return
    }
    case 'revoke': {
      if (!id) throw new UsageError(`Which key? ${USAGE}`)
      await keys.revoke(id)
      out(`Revoked key ${id}`)
      return
    }
    default:
      throw new UsageError(USAGE)
  }
}

export async function keys(args: Args): Promise<void> {
  if (args.flags.direct !== true) return run(args, viaApi())
  const configPath = flag(args, 'config')
  const db = await openDb(loadConfig(process.env, configPath !== undefined ? { configPath } : {}))
  try {
    // A fresh database gets its schema and default workspace, as `start` would.
    await migrate(db)
    const boot = await db.transaction((tx) => ensureDefaultWorkspace(tx))
    for (const k of boot.generated)
      process.stderr.write(`Created the default workspace; its ${k.kind} key (shown once): ${k.secret}\n`)
    await run(args, viaDb(db, flag(args, 'workspace') ?? DEFAULT_WORKSPACE))
  } finally {
    await db.close()
  }
}
