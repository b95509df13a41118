// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${NAME} in plain strings is the config file syntax under test
// The config file: found, read, every wrong value reported with its file, line and path,
// secrets from the environment, and the environment winning over the file.
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { loadConfig } from '../src/config.ts'
import { interpolate } from '../src/config-file.ts'
import { NudgeError } from '../src/domain/errors.ts'

let dir: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'nudge-config-'))
})
afterEach(() => rmSync(dir, { recursive: true, force: true }))

const write = (name: string, text: string) => writeFileSync(join(dir, name), text)

/** The error loadConfig throws, or a failure when it does not. */
function failure(env: Record<string, string>, opts: { configPath?: string } = {}): NudgeError {
  try {
    loadConfig(env, { cwd: dir, ...opts })
  } catch (err) {
    if (err instanceof NudgeError) return err
    throw err
  }
  throw new Error('loadConfig accepted the configuration')
}

const GOOD = `# Nudge for the photo club
server:
  port: 3100
  publicUrl: https://nudge.photoclub.example
  logLevel: warn
dataDir: ./data
inbound:
  domain: in.photoclub.example
email:
  smtpUrl: smtps://mailer:\${SMTP_PASSWORD}@smtp.example.com:465
  from: "Photo Club <hello@photoclub.example>"
workspaces:
  default:
    channels:
      webhook:
        url: https://crm.example/hooks/nudge
        secret: \${WEBHOOK_SECRET:-a-local-secret-of-32-characters}
      sms: { accountSid: AC00000000000000000000000000000000, authToken: "\${TWILIO_TOKEN}", from: "+15005550006" }
`

describe('config file', () => {
  it('is found in the working directory; its settings fill what the environment leaves unset', () => {
    write('nudge.config.yaml', GOOD)
    const config = loadConfig(
      { SMTP_PASSWORD: 'p@ss', TWILIO_TOKEN: 'tok-1234567890', PORT: '4000' },
      { cwd: dir },
    )
    expect(config.file?.path).toBe('nudge.config.yaml')
    // The environment wins.
    expect(config.PORT).toBe(4000)
    expect(config.NUDGE_PUBLIC_URL).toBe('https://nudge.photoclub.example')
    expect(config.NUDGE_LOG_LEVEL).toBe('warn')
    expect(config.NUDGE_DATA_DIR).toBe('./data')
    expect(config.NUDGE_INBOUND_DOMAIN).toBe('in.photoclub.example')
    expect(config.NUDGE_SMTP_URL).toBe('smtps://mailer:p@ss@smtp.example.com:465')
    expect(config.NUDGE_EMAIL_FROM).toBe('Photo Club <hello@photoclub.example>')
    // Defaults still apply to what neither sets.
    expect(config.NUDGE_ROLE).toBe('all')
    expect(config.file?.workspaces).toEqual({
      default: {
        channels: {
          webhook: { url: 'https://crm.example/hooks/nudge', secret: 'a-local-secret-of-32-characters' },
          sms: {
            accountSid: 'AC00000000000000000000000000000000',
            authToken: 'tok-1234567890',
            from: '+15005550006',
          },
        },
      },
    })
    expect(loadConfig({ SMTP_PASSWORD: 'x', TWILIO_TOKEN: 'token-1234' }, { cwd: dir }).PORT).toBe(3100)
  })

  it('reports every wrong value with the file, its line and its path, and nothing is started', () => {
    write(
      'nudge.config.yaml',
      [
        'server:', //                                            1
        '  port: 99999', //                                      2
        '  prot: 3000', //                                       3
        'database:', //                                          4
        '  url: mysql://db.example/nudge', //                    5
        'email:', //                                             6
        '  smtpUrl: ${SMTP_URL}', //                             7
        'workspaces:', //                                        8
        '  default:', //                                         9
        '    channels:', //                                     10
        '      webhook:', //                                    11
        '        url: https://crm.example/hooks', //            12
        '        secret: short', //                             13
        '      pigeon: {}', //                                  14
        '',
      ].join('\n'),
    )
    // A variable the file needs and the environment lacks is reported first, by itself.
    const unset = failure({})
    expect(unset.code).toBe('NUDGE_ERR_CONFIG')
    expect(unset.message).toContain(
      'nudge.config.yaml:7: email.smtpUrl: ${SMTP_URL} is not set in the environment',
    )

    const err = failure({ SMTP_URL: 'http://nope' })
    expect(err.message.split('\n')).toEqual([
      'Invalid configuration file nudge.config.yaml:',
      '  nudge.config.yaml:2: server.port: Too big: expected number to be <=65535',
      '  nudge.config.yaml:3: server.prot: unknown setting',
      '  nudge.config.yaml:5: database.url: must start with postgres:// or postgresql://',
      '  nudge.config.yaml:7: email.smtpUrl: must look like smtp://user:pass@host:587 or smtps://user:pass@host:465',
      '  nudge.config.yaml:13: workspaces.default.channels.webhook.secret: must be at least 16 characters',
      '  nudge.config.yaml:14: workspaces.default.channels.pigeon: unknown setting',
    ])
    expect(err.issues[0]).toEqual({
      path: 'nudge.config.yaml:2 server.port',
      message: 'Too big: expected number to be <=65535',
    })
  })

  it('reports a YAML syntax error with its line', () => {
    write('nudge.config.yaml', 'server:\n  port: 3000\n   host: x\n')
    const err = failure({})
    expect(err.message).toMatch(
      /^Invalid configuration file nudge\.config\.yaml:\n {2}nudge\.config\.yaml:2: Nested mappings are not allowed/,
    )
  })

  it('reads a JSON file too, with lines', () => {
    write('nudge.config.json', '{\n  "server": {\n    "port": "three thousand"\n  }\n}\n')
    expect(failure({}).message).toContain(
      'nudge.config.json:3: server.port: Invalid input: expected number, received NaN',
    )
    write('nudge.config.json', '{ "server": { "port": 3200 } }')
    expect(loadConfig({}, { cwd: dir }).PORT).toBe(3200)
  })

  it('is given by --config or NUDGE_CONFIG; a missing one, or two in the directory, is an error', () => {
    write('prod.yaml', 'server: { port: 3300 }\n')
    expect(loadConfig({}, { cwd: dir, configPath: 'prod.yaml' }).PORT).toBe(3300)
    expect(loadConfig({ NUDGE_CONFIG: join(dir, 'prod.yaml') }, { cwd: dir }).PORT).toBe(3300)
    expect(failure({}, { configPath: 'nope.yaml' }).message).toContain(
      'nope.yaml: not found (given by --config)',
    )
    expect(failure({ NUDGE_CONFIG: 'gone.yaml' }).message).toContain(
      'gone.yaml: not found (given by NUDGE_CONFIG)',
    )
    write('nudge.config.yaml', 'server: { port: 1 }\n')
    write('nudge.config.json', '{}')
    expect(failure({}).message).toContain('more than one config file; keep one, or choose with --config')
    // No file at all is fine: the environment alone.
    rmSync(join(dir, 'nudge.config.yaml'))
    rmSync(join(dir, 'nudge.config.json'))
    expect(loadConfig({ PORT: '3400' }, { cwd: dir })).toMatchObject({ PORT: 3400 })
    expect(loadConfig({}, { cwd: dir }).file).toBeUndefined()
  })

  it('replaces ${NAME}, ${NAME:-fallback} and $${ in values only', () => {
    expect(interpolate('smtp://u:${PW}@h', { PW: 'secret' })).toEqual({
      value: 'smtp://u:secret@h',
      missing: [],
    })
    expect(interpolate('${A:-x}-${B}', {})).toEqual({ value: 'x-${B}', missing: ['B'] })
    expect(interpolate('cost $5, literal $${HOME}', { HOME: '/root' })).toEqual({
      value: 'cost $5, literal ${HOME}',
      missing: [],
    })
  })
})

describe('nudge start with a bad config file', () => {
  it('exits with the precise error and does not start', async () => {
    write('nudge.config.yaml', 'server:\n  port: 3000\n  role: everything\n')
    const bin = join(import.meta.dirname, '../bin/nudge.js')
    const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const env = Object.fromEntries(
        Object.entries(process.env).filter(
          ([k]) => !k.startsWith('NUDGE_') && k !== 'DATABASE_URL' && k !== 'PORT',
        ),
      )
      const child = execFile(process.execPath, [bin, 'start', '--config', 'nudge.config.yaml'], {
        cwd: dir,
        env: { ...env, NUDGE_DATA_DIR: join(dir, 'data') },
        timeout: 30_000,
      })
      let stdout = ''
      let stderr = ''
      child.stdout?.on('data', (c) => {
        stdout += c
      })
      child.stderr?.on('data', (c) => {
        stderr += c
      })
      child.on('exit', (code) => resolve({ code, stdout, stderr }))
    })
    expect(result.code).toBe(1)
    expect(result.stdout).not.toContain('Nudge is running')
    expect(result.stderr).toContain(
      `nudge.config.yaml:3: server.role: Invalid option: expected one of "api"|"worker"|"all"`,
    )
  })
})
