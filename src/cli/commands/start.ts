import { loadConfig } from '../../config.ts'
import { makeLogger } from '../../log.ts'
import { startNode } from '../../runtime/node.ts'
import { type Args, flag } from '../args.ts'

export async function start(args: Args): Promise<void> {
  const port = flag(args, 'port')
  const role = flag(args, 'role')
  const inboundSmtp = flag(args, 'inbound-smtp-port')
  const configPath = flag(args, 'config')
  // Flags win over the environment, which wins over the config file.
  const config = loadConfig(
    {
      ...process.env,
      ...(port !== undefined ? { PORT: port } : {}),
      ...(role !== undefined ? { NUDGE_ROLE: role } : {}),
      ...(inboundSmtp !== undefined ? { NUDGE_INBOUND_SMTP_PORT: inboundSmtp } : {}),
    },
    configPath !== undefined ? { configPath } : {},
  )
  const log = makeLogger(config.NUDGE_LOG_LEVEL)
  const node = await startNode(config, log)
  const lines = [`Nudge is running (${config.NUDGE_ROLE}) on ${node.db.label}`]
  if (config.file) lines.push(`  Config:  ${config.file.path}`)
  if (node.url)
    lines.push(
      `  API:     ${node.url}`,
      `  Ingest:  ${node.url}/v1/track`,
      `  OpenAPI: ${node.url}/api/openapi.json`,
    )
  if (node.inboundSmtpPort !== undefined) lines.push(`  Replies: SMTP on port ${node.inboundSmtpPort}`)
  for (const k of node.generatedKeys) {
    lines.push(
      `  ${k.kind === 'write' ? 'Write key' : 'Admin key'}: ${k.secret}   (shown once; store it now)`,
    )
  }
  process.stdout.write(`${lines.join('\n')}\n`)

  let signalled = false
  const shutdown = (signal: string) => {
    if (signalled) return
    signalled = true
    log.info({ signal }, 'shutting down')
    node.stop().then(
      () => process.exit(0),
      (err) => {
        log.error({ err }, 'shutdown failed')
        process.exit(1)
      },
    )
  }
  process.on('SIGINT', () => shutdown('SIGINT'))
  process.on('SIGTERM', () => shutdown('SIGTERM'))
}
