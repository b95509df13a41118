// Channel settings from the config file, applied at start: a real send uses them, the admin
// API's later changes survive a restart with the same file, and a changed file wins again.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config.ts'
import type { ConfigFile } from '../../src/config-file.ts'
import { silentLogger } from '../../src/log.ts'
import { applyConfigChannels } from '../../src/runtime/config-channels.ts'
import { startNode } from '../../src/runtime/node.ts'
import { getChannelConfig, putChannelConfig } from '../../src/store/channel-configs.ts'
import { enqueueMessages, getMessage } from '../../src/store/messages.ts'
import { saveTemplates } from '../../src/store/workspace-templates.ts'
import { type SmtpPeer, startSmtp } from '../channels/peers.ts'
import { describeEachDriver } from '../helpers/db.ts'
import { codeMessage } from '../helpers/messages.ts'
import { makeWorld, type World } from '../helpers/world.ts'

const WS = 'default'

describeEachDriver('channel settings from the config file', (driver) => {
  let world: World
  let smtp: SmtpPeer
  let dir: string
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'nudge-config-channels-'))
    smtp = await startSmtp({ user: 'mailer', pass: 's3cret:pw' })
    world = await makeWorld(driver, '2026-03-02T10:00:00Z')
    await saveTemplates(
      world.db,
      WS,
      [
        {
          name: 'code',
          channel: 'email',
          category: 'transactional',
          subject: 'Your code',
          text: 'It is 1234',
        },
      ],
      world.clock.now(),
    )
  })
  afterAll(async () => {
    await world.close()
    await smtp.close()
    rmSync(dir, { recursive: true, force: true })
  })

  /** The file as an operator would commit it: the SMTP password comes from the environment. */
  function fileWith(from: string, env: Record<string, string> = {}): ConfigFile {
    writeFileSync(
      join(dir, 'nudge.config.yaml'),
      [
        'workspaces:',
        '  default:',
        '    channels:',
        '      email:',
        `        url: smtp://mailer:\${SMTP_PASSWORD}@127.0.0.1:${smtp.port}`,
        `        from: "${from}"`,
        '        pool: { maxConnections: 1 }',
        '',
      ].join('\n'),
    )
    const config = loadConfig({ SMTP_PASSWORD: 's3cret%3Apw', ...env }, { cwd: dir })
    if (!config.file) throw new Error('no config file read')
    return config.file
  }

  let n = 0
  async function send(): Promise<string> {
    const [p] = await world.db.query<{ profile_id: string }>(
      `SELECT profile_id FROM profiles WHERE user_id = 'ann'`,
    )
    const messageId = `msg-config-${++n}`
    await enqueueMessages(world.db, [codeMessage(WS, p!.profile_id, messageId, world.clock.now())])
    await world.workers.drain()
    return messageId
  }

  it("a real send goes through the file's SMTP server, with its From and the password from the environment", async () => {
    const file = fileWith('Photo Club <hello@photoclub.example>')
    expect(await applyConfigChannels(world.db, file, world.clock.now())).toEqual([
      { workspaceId: WS, channel: 'email' },
    ])
    await world.identify('ann', { email: 'ann@example.com' })
    const messageId = await send()
    expect((await getMessage(world.db, WS, messageId))?.status).toBe('sent')
    expect(smtp.received).toHaveLength(1)
    expect(smtp.received[0]?.parsed.from?.value[0]).toEqual({
      name: 'Photo Club',
      address: 'hello@photoclub.example',
    })
    expect(smtp.received[0]?.to).toEqual(['ann@example.com'])
  })

  it('a restart with the same file keeps what the admin API changed since; a changed file writes its settings again', async () => {
    const file = fileWith('Photo Club <hello@photoclub.example>')
    const stored = await getChannelConfig(world.db, WS, 'email')
    await putChannelConfig(
      world.db,
      WS,
      'email',
      { ...stored!.config, from: 'Club Team <team@photoclub.example>' },
      world.clock.now(),
    )
    // Same file, same resolved values: nothing is written.
    expect(await applyConfigChannels(world.db, file, world.clock.now())).toEqual([])
    await send()
    expect(smtp.received.at(-1)?.parsed.from?.value[0]?.address).toBe('team@photoclub.example')

    const changed = fileWith('Photo Club News <news@photoclub.example>')
    expect(await applyConfigChannels(world.db, changed, world.clock.now())).toEqual([
      { workspaceId: WS, channel: 'email' },
    ])
    await send()
    expect(smtp.received.at(-1)?.parsed.from?.value[0]?.address).toBe('news@photoclub.example')
  })

  it('a workspace the file names that does not exist stops the start with its name', async () => {
    const file: ConfigFile = {
      path: 'nudge.config.yaml',
      settings: {},
      workspaces: { club: { channels: {} } },
    }
    await expect(applyConfigChannels(world.db, file, world.clock.now())).rejects.toThrow(
      'nudge.config.yaml:\n  workspaces.club: no such workspace',
    )
  })
})

describe('nudge start with a config file', () => {
  it("writes the file's channel settings before serving, and refuses a workspace that does not exist", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nudge-config-node-'))
    try {
      const yaml = (workspace: string) =>
        `server: { port: 0, host: 127.0.0.1, role: api }\ndataDir: ${JSON.stringify(join(dir, 'data'))}\n` +
        `workspaces:\n  ${workspace}:\n    channels:\n      webhook: { url: "https://crm.example/hooks", secret: "\${HOOK_SECRET}" }\n`
      writeFileSync(join(dir, 'nudge.config.yaml'), yaml('default'))
      const node = await startNode(
        loadConfig({ HOOK_SECRET: 'a-signing-secret-of-some-length' }, { cwd: dir }),
        silentLogger,
      )
      try {
        expect((await getChannelConfig(node.db, 'default', 'webhook'))?.config).toMatchObject({
          url: 'https://crm.example/hooks',
          secret: 'a-signing-secret-of-some-length',
        })
      } finally {
        await node.stop()
      }
      writeFileSync(join(dir, 'nudge.config.yaml'), yaml('club'))
      await expect(
        startNode(loadConfig({ HOOK_SECRET: 'a-signing-secret-of-some-length' }, { cwd: dir }), silentLogger),
      ).rejects.toThrow('workspaces.club: no such workspace')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
