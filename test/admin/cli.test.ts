import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parse as parseCsv } from 'csv-parse/sync'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { describeEachDriver } from '../helpers/db.ts'
import { closedPort, runCli } from './cli-server.ts'
import { type AdminFixture, adminFixture, seedEvents } from './helpers.ts'

describeEachDriver('nudge CLI against a running server', (driver) => {
  let f: AdminFixture
  let dir: string
  let env: Record<string, string>
  const cli = (...args: string[]) => runCli(args, env)

  beforeAll(async () => {
    f = await adminFixture(driver)
    const address = await f.app.listen({ port: 0, host: '127.0.0.1' })
    env = { NUDGE_URL: address, NUDGE_ADMIN_KEY: f.adminKey, NUDGE_WRITE_KEY: f.writeKey }
    dir = await mkdtemp(join(tmpdir(), 'nudge-cli-'))
  })
  afterAll(async () => {
    await f.close()
    await rm(dir, { recursive: true, force: true })
  })

  it('creates, lists and revokes keys through the admin API', async () => {
    const created = await cli('keys', 'create', '--kind', 'write', '--name', 'importer', '--json')
    expect(created.code).toBe(0)
    const key = JSON.parse(created.stdout) as { id: string; secret: string }
    expect(key.secret).toMatch(/^nwk_/)
    const list = await cli('keys', 'list')
    expect(list.stdout).toMatch(new RegExp(`${key.id}\\s+write\\s+\\S+\\s+active\\s+importer`))
    const revoked = await cli('keys', 'revoke', key.id)
    expect(revoked.stdout).toContain(`Revoked key ${key.id}`)
    const rows = await f.db.query<{ revoked_at: Date | null }>(
      'SELECT revoked_at FROM api_keys WHERE id = $1',
      [key.id],
    )
    expect(rows[0]?.revoked_at).toBeInstanceOf(Date)
    const bad = await cli('keys', 'create', '--kind', 'root')
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('--kind must be write or admin')
  })

  it('says clearly when the admin key is missing or the server cannot be reached', async () => {
    const noKey = await runCli(['keys', 'list'], { ...env, NUDGE_ADMIN_KEY: '' })
    expect(noKey.code).toBe(1)
    expect(noKey.stderr).toContain('NUDGE_ADMIN_KEY is not set')
    const closed = await closedPort()
    const down = await runCli(['keys', 'list'], { ...env, NUDGE_URL: `http://127.0.0.1:${closed}` })
    expect(down.code).toBe(1)
    expect(down.stderr).toContain(`Cannot reach Nudge at http://127.0.0.1:${closed} (ECONNREFUSED)`)
    const wrong = await runCli(['keys', 'list'], { ...env, NUDGE_ADMIN_KEY: f.writeKey })
    expect(wrong.stderr).toContain('HTTP 403')
    const noWrite = await runCli(['import', join(dir, 'x.ndjson')], { ...env, NUDGE_WRITE_KEY: '' })
    expect(noWrite.stderr).toContain('Cannot read')
  })

  it('imports NDJSON events and reports accepted, duplicate and rejected lines', async () => {
    const file = join(dir, 'events.ndjson')
    await writeFile(
      file,
      [
        JSON.stringify({
          type: 'identify',
          userId: 'ann',
          traits: { email: 'ann@example.org' },
          messageId: 'i1',
        }),
        JSON.stringify({
          type: 'track',
          userId: 'ann',
          event: 'Post Created',
          timestamp: '2026-01-05T10:00:00Z',
        }),
        '{"type": "track", "userId": ',
        '',
        JSON.stringify({ type: 'track', event: 'Nobody' }),
        '[1, 2]',
        JSON.stringify({ type: 'identify', userId: 'ann', messageId: 'i1' }),
      ].join('\n'),
    )
    const first = await cli('import', file)
    expect(first.code).toBe(1)
    expect(first.stdout).toContain('accepted:   2')
    expect(first.stdout).toContain('duplicates: 1')
    expect(first.stdout).toContain('rejected:   3')
    expect(first.stdout).toMatch(/line 3: not JSON/)
    expect(first.stdout).toMatch(/line 5: userId: userId or anonymousId is required/)
    expect(first.stdout).toMatch(/line 6: not a JSON object/)
    expect(first.stderr).toContain('100%  7 lines read')
    const rows = await f.db.query<{ type: string; name: string | null; user_id: string }>(
      'SELECT type, name, user_id FROM events ORDER BY seq',
    )
    expect(rows).toEqual([
      { type: 'identify', name: null, user_id: 'ann' },
      { type: 'track', name: 'Post Created', user_id: 'ann' },
    ])
    // Lines without a messageId get one from their content: a second run stores nothing twice.
    const again = await cli('import', file)
    expect(again.stdout).toContain('accepted:   0')
    expect(again.stdout).toContain('duplicates: 3')
    expect((await f.db.query('SELECT 1 FROM events')).length).toBe(2)
  })

  it('splits a large NDJSON file into requests under the 500 KB limit', async () => {
    const file = join(dir, 'big.ndjson')
    const pad = 'x'.repeat(400)
    const lines = Array.from({ length: 1500 }, (_, i) =>
      JSON.stringify({
        type: 'track',
        userId: `bulk-${i % 50}`,
        event: 'Bulk',
        messageId: `bulk-${i}`,
        properties: { pad },
      }),
    )
    await writeFile(file, `${lines.join('\n')}\n`)
    const res = await cli('import', file)
    expect(res.stdout).toContain('accepted:   1500')
    expect(res.stdout).toContain('rejected:   0')
    expect(res.code).toBe(0)
    const [row] = await f.db.query<{ n: number }>("SELECT count(*)::int AS n FROM events WHERE name = 'Bulk'")
    expect(row?.n).toBe(1500)
  })

  it('imports a CSV of profiles as identify calls, with the line of each bad row', async () => {
    const file = join(dir, 'members.csv')
    await writeFile(
      file,
      [
        'user_id,email,Name,plan',
        'u-1,ann@example.org,Ann,pro',
        ',Bob@Example.org,"Bob, Jr.",free',
        ',,Nobody,free',
        'u-4,cy@example.org,Cy',
        'u-5,dee@example.org,Dee,',
      ].join('\n'),
    )
    const res = await cli('import', file)
    expect(res.stdout).toContain('accepted:   3')
    expect(res.stdout).toMatch(/line 4: no userId, anonymousId or email/)
    expect(res.stdout).toMatch(/line 5: .*columns/i)
    const rows = await f.db.query<{
      user_id: string | null
      anonymous_id: string | null
      payload: { traits: unknown }
    }>(
      "SELECT user_id, anonymous_id, payload FROM events WHERE type = 'identify' AND payload->>'messageId' LIKE 'import-%' ORDER BY seq",
    )
    expect(rows.map((r) => [r.user_id, r.anonymous_id, r.payload.traits])).toEqual([
      ['u-1', null, { email: 'ann@example.org', Name: 'Ann', plan: 'pro' }],
      [null, 'email:bob@example.org', { email: 'Bob@Example.org', Name: 'Bob, Jr.', plan: 'free' }],
      ['u-5', null, { email: 'dee@example.org', Name: 'Dee' }],
    ])
  })

  it('exports every profile across pages, as NDJSON and CSV', async () => {
    await f.db.query(
      `INSERT INTO profiles (workspace_id, profile_id, user_id, traits, first_seen_at, last_seen_at, created_at)
       SELECT 'default', gen_random_uuid(), 'p-' || i, jsonb_build_object('email', 'p' || i || '@example.org', 'note', 'a "quoted", note'),
              now(), now(), now() - i * interval '1 second'
       FROM generate_series(1, 1005) AS i`,
    )
    const out = join(dir, 'profiles.ndjson')
    const res = await cli('export', 'profiles', '--out', out)
    expect(res.code).toBe(0)
    expect(res.stderr).toContain(`Exported 1005 profiles to ${out}`)
    const lines = (await readFile(out, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    expect(lines.length).toBe(1005)
    expect(new Set(lines.map((p) => p.userId)).size).toBe(1005)
    expect(lines[0]).toMatchObject({ userId: 'p-1', traits: { email: 'p1@example.org' } })

    const csv = await cli('export', 'profiles', '--format', 'csv')
    const csvLines = csv.stdout.trim().split('\n')
    expect(csvLines[0]).toBe('id,userId,email,timezone,firstSeenAt,lastSeenAt,createdAt,traits')
    expect(csvLines.length).toBe(1006)
    expect(csvLines[1]).toMatch(/^[0-9a-f-]{36},p-1,p1@example\.org,,/)
    const records = parseCsv(csv.stdout, { columns: true }) as Record<string, string>[]
    expect(records.length).toBe(1005)
    expect(JSON.parse(records[0]!.traits!)).toEqual({ email: 'p1@example.org', note: 'a "quoted", note' })
  })

  it('exports events as CSV with the payload in one cell', async () => {
    await seedEvents(f.db, [
      { messageId: 'exp-1', name: 'Exported, Event', userId: 'zed', at: '2030-01-01T00:00:00Z' },
    ])
    const res = await cli('export', 'events', '--format', 'csv')
    const [header, newest] = res.stdout.split('\n')
    expect(header).toBe('seq,messageId,type,name,userId,anonymousId,profileId,timestamp,receivedAt,payload')
    expect(newest).toMatch(/^\d+,exp-1,track,"Exported, Event",zed,,,2030-01-01T00:00:00.000Z,/)
  })
})
