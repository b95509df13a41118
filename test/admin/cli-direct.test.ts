// `nudge keys --direct`: on the database itself, for when no server runs.
import { spawnSync } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config.ts'
import { openDb } from '../../src/store/open.ts'
import { openTestDb, serverUrl } from '../helpers/db.ts'
import { runCli } from './cli-server.ts'

describe('nudge keys --direct [pglite data folder]', () => {
  let dir: string
  let env: Record<string, string>
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nudge-direct-'))
    env = { NUDGE_DATA_DIR: dir, DATABASE_URL: '', NUDGE_URL: '', NUDGE_ADMIN_KEY: '' }
  })
  afterAll(() => rm(dir, { recursive: true, force: true }))

  it('creates the workspace on a fresh folder, then creates and lists keys', async () => {
    const created = await runCli(
      ['keys', 'create', '--kind', 'admin', '--name', 'ops', '--direct', '--json'],
      env,
    )
    expect(created.code).toBe(0)
    expect(created.stderr).toMatch(/its write key \(shown once\): nwk_/)
    const key = JSON.parse(created.stdout) as { id: string; secret: string }
    expect(key.secret).toMatch(/^nak_/)
    const list = await runCli(['keys', 'list', '--direct', '--json'], env)
    const items = JSON.parse(list.stdout) as { id: string; kind: string; name: string | null }[]
    expect(items.map((k) => `${k.kind}:${k.name}`).sort()).toEqual([
      'admin:initial',
      'admin:ops',
      'write:initial',
    ])
  })

  it('fails clearly while another process holds the database, and works once it is released', async () => {
    const held = await openDb(loadConfig({ NUDGE_DATA_DIR: dir }))
    try {
      const res = await runCli(['keys', 'list', '--direct'], env)
      expect(res.code).toBe(1)
      expect(res.stderr).toContain(`in use by process ${process.pid}`)
      expect(res.stderr).toContain('NUDGE_URL')
    } finally {
      await held.close()
    }
    expect((await runCli(['keys', 'list', '--direct'], env)).code).toBe(0)
  })

  it('takes over a lock left by a process that died', async () => {
    const dead = spawnSync(process.execPath, ['-e', 'process.pid']).pid
    await writeFile(join(dir, 'nudge.lock'), String(dead))
    const res = await runCli(['keys', 'list', '--direct'], env)
    expect(res.code).toBe(0)
    expect(res.stdout).toContain('initial')
  })
})

describe.skipIf(!serverUrl)('nudge keys --direct [postgres]', () => {
  it('creates and revokes a key in the DATABASE_URL database', async () => {
    const db = await openTestDb('pg')
    try {
      const url = `${serverUrl}?options=${encodeURIComponent(`-c search_path=${db.schema}`)}`
      const env = { DATABASE_URL: url, NUDGE_URL: '', NUDGE_ADMIN_KEY: '' }
      const created = await runCli(['keys', 'create', '--kind', 'write', '--direct', '--json'], env)
      expect(created.code).toBe(0)
      const { id } = JSON.parse(created.stdout) as { id: string }
      expect((await runCli(['keys', 'revoke', id, '--direct'], env)).stdout).toContain(`Revoked key ${id}`)
      const rows = await db.query<{ kind: string; revoked: boolean }>(
        'SELECT kind, revoked_at IS NOT NULL AS revoked FROM api_keys WHERE id = $1',
        [id],
      )
      expect(rows).toEqual([{ kind: 'write', revoked: true }])
    } finally {
      await db.close()
    }
  })
})
