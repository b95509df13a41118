// Journeys as code through the real `nudge` command: validate offline, apply against a
// running server.
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { describeEachDriver } from '../helpers/db.ts'
import { runCli } from './cli-server.ts'
import { type AdminFixture, adminFixture } from './helpers.ts'

const examples = fileURLToPath(new URL('../../examples', import.meta.url))

const BAD: Record<string, string> = {
  'bad-yaml.yaml':
    'id: bad-yaml\nname: Bad\ntrigger: { type: event, event: Signed Up\nentry: { type: once }\n',
  'no-timeout.yaml': [
    'id: no-timeout',
    'name: No timeout',
    'trigger: { type: event, event: Signed Up }',
    'entry: { type: once }',
    'steps:',
    '  - id: wait-post',
    '    type: wait',
    '    for: { event: Post Created }',
    '  - { id: hello, type: send, channel: email, template: welcom }',
    '',
  ].join('\n'),
  'echo.json': JSON.stringify(
    {
      id: 'echo',
      name: 'Echo',
      trigger: { type: 'event', event: 'Journey Entered' },
      entry: { type: 'every_time' },
      steps: [{ type: 'send', channel: 'email', template: 'welcome' }],
    },
    null,
    2,
  ),
}

describe('nudge validate', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nudge-validate-'))
    await mkdir(join(dir, 'journeys'))
    await cp(join(examples, 'templates'), join(dir, 'templates'), { recursive: true })
    for (const [name, text] of Object.entries(BAD)) await writeFile(join(dir, 'journeys', name), text)
  })
  afterAll(() => rm(dir, { recursive: true, force: true }))

  it('passes the examples, with the templates beside them', async () => {
    const res = await runCli(['validate', join(examples, 'journeys')], {})
    expect(res.stdout).toBe('7 journeys and 11 templates are valid\n')
    expect(res.code).toBe(0)
  })

  it('prints every problem with file, line, path and hint, and exits 1', async () => {
    const res = await runCli(['validate', dir], {})
    const at = (name: string) => join(dir, 'journeys', name)
    expect(res.stdout.split('\n')).toEqual([
      `${at('bad-yaml.yaml')}:4: Flow map in block collection must be sufficiently indented and end with a } (check the YAML indentation and quotes)`,
      `${at('echo.json')}:4: trigger: this journey starts itself again and again without a delay: entering it emits Journey Entered, which matches its own trigger (add a delay before that step, limit entries (entry: once, or at_most), or narrow the trigger with where)`,
      `${at('no-timeout.yaml')}:6: steps[0].timeout: a wait needs a timeout, e.g. timeout: 3d`,
      `${at('no-timeout.yaml')}:9: steps[1].template: unknown template welcom (create the template first, or fix its name)`,
      '4 problems found',
      '',
    ])
    expect(res.code).toBe(1)
  })

  it('finds the templates given by --templates, and says so when there are none', async () => {
    const file = join(dir, 'journeys', 'no-timeout.yaml')
    const elsewhere = await runCli(['validate', file, '--templates', join(dir, 'nowhere')], {})
    expect(elsewhere.stdout).toContain(`${join(dir, 'nowhere')}: no such folder (given by --templates)`)
    const alone = await mkdtemp(join(tmpdir(), 'nudge-alone-'))
    await writeFile(join(alone, 'x.yaml'), BAD['no-timeout.yaml']!)
    const res = await runCli(['validate', join(alone, 'x.yaml')], {})
    expect(res.stderr).toContain('template names are not checked (use --templates <dir>)')
    expect(res.stdout).not.toContain('unknown template')
    await rm(alone, { recursive: true, force: true })
  })
})

describeEachDriver('nudge apply against a running server', (driver) => {
  let f: AdminFixture
  let dir: string
  let env: Record<string, string>
  const cli = (...args: string[]) => runCli(args, env)
  const count = async (table: string) =>
    (await f.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`))[0]?.n

  beforeAll(async () => {
    f = await adminFixture(driver)
    const address = await f.app.listen({ port: 0, host: '127.0.0.1' })
    env = { NUDGE_URL: address, NUDGE_ADMIN_KEY: f.adminKey }
    dir = await mkdtemp(join(tmpdir(), 'nudge-apply-'))
    await cp(examples, dir, { recursive: true })
  })
  afterAll(async () => {
    await f.close()
    await rm(dir, { recursive: true, force: true })
  })

  it('sends nothing when any file is invalid', async () => {
    const broken = join(dir, 'journeys', 'zz-broken.yaml')
    await writeFile(broken, BAD['no-timeout.yaml']!)
    const res = await cli('apply', dir)
    expect(res.code).toBe(1)
    expect(res.stdout).toContain(`${broken}:6: steps[0].timeout: a wait needs a timeout`)
    expect(res.stdout).toContain('Nothing was applied: fix the 2 problems above')
    expect([await count('templates'), await count('journeys')]).toEqual([0, 0])
    await rm(broken)
  })

  it('applies templates then journeys, and a second apply changes nothing', async () => {
    const first = await cli('apply', dir)
    expect(first.code).toBe(0)
    expect(first.stdout).toContain('template welcome: created')
    expect(first.stdout).toContain('journey welcome-series: created (v1)\n')
    expect(first.stdout).toContain(`Applied 7 journeys and 11 templates to ${env.NUDGE_URL}`)
    expect([await count('templates'), await count('journey_versions')]).toEqual([11, 7])

    const again = await cli('apply', dir)
    expect(again.stdout).toContain('template welcome: unchanged')
    expect(again.stdout).toContain('journey welcome-series: unchanged (v1)\n')
    expect(again.stdout).not.toMatch(/: (created|updated|versioned)/)
    expect(await count('journey_versions')).toBe(7)
  })

  it('--publish publishes what is not live yet, once', async () => {
    const published = await cli('apply', dir, '--publish')
    expect(published.stdout).toContain('journey welcome-series: unchanged (v1), published')
    const live = await f.db.query<{ journey_id: string; live_version: number }>(
      "SELECT journey_id, live_version FROM journeys WHERE status = 'published' ORDER BY journey_id",
    )
    expect(live.length).toBe(7)
    expect(live.every((j) => j.live_version === 1)).toBe(true)
    const again = await cli('apply', dir, '--publish')
    expect(again.stdout).not.toContain('published')

    const file = join(dir, 'journeys', 'airport-ride.yaml')
    await writeFile(file, (await readFile(file, 'utf8')).replace('per: 1d', 'per: 2d'))
    const changed = await cli('apply', dir, '--publish')
    expect(changed.stdout).toContain('journey airport-ride: versioned (v2), published')
    expect(changed.stdout).toContain('journey welcome-series: unchanged (v1)\n')
    const [row] = await f.db.query<{ live_version: number }>(
      "SELECT live_version FROM journeys WHERE journey_id = 'airport-ride'",
    )
    expect(row?.live_version).toBe(2)
  })

  it('shows the server’s issues when it refuses a document', async () => {
    // Valid on its own, but a loop with a journey only the server has.
    await f.app.inject({
      method: 'POST',
      url: '/api/v1/journeys',
      headers: f.auth,
      payload: {
        id: 'to-free',
        name: 'To free',
        trigger: { type: 'trait_changed', trait: 'plan', to: 'pro' },
        entry: { type: 'every_time' },
        steps: [{ type: 'update', set: { plan: 'free' } }],
      },
    })
    const alone = await mkdtemp(join(tmpdir(), 'nudge-loop-'))
    await writeFile(
      join(alone, 'to-pro.yaml'),
      'id: to-pro\nname: To pro\ntrigger: { type: trait_changed, trait: plan, to: free }\nentry: { type: every_time }\nsteps:\n  - { type: update, set: { plan: pro } }\n',
    )
    const res = await cli('apply', alone)
    expect(res.code).toBe(1)
    expect(res.stderr).toContain('HTTP 400 NUDGE_ERR_JOURNEY_INVALID')
    expect(res.stderr).toContain(
      'body.trigger: journeys to-pro → to-free → to-pro start each other again and again without a delay',
    )
    await rm(alone, { recursive: true, force: true })
  })
})
