// nudge preview <template> and nudge send-test <template> --to <address>: a template rendered
// for a profile and a sample event, or sent once as a test, by the running server
// (POST /api/v1/templates/{name}/preview and /send-test).
import { type Args, flag, UsageError } from '../args.ts'
import { CliError, makeClient } from '../client.ts'

const CONTEXT =
  '[--profile <userId|anonymousId|id>] [--event \'{"name":"Signed Up","properties":{}}\'] [--journey <id>]'
const PREVIEW_USAGE = `Usage: nudge preview <template> ${CONTEXT} [--json]`
const SEND_USAGE = `Usage: nudge send-test <template> --to <email|+phone|profile> [--channel <channel>] ${CONTEXT} [--json]`

interface Problem {
  readonly part?: string
  readonly message: string
}

interface Preview {
  readonly channel: string
  readonly parts: { subject?: string; text?: string; html?: string; url?: string }
  readonly problems: readonly Problem[]
}

interface TestSend {
  readonly messageId: string | null
  readonly channel: string
  readonly result: { ok: boolean; kind?: string; reason?: string; providerId?: string }
  readonly problems: readonly Problem[]
}

function templateOf(args: Args, usage: string): string {
  const name = args.positionals[0]
  if (!name || args.positionals.length > 1) throw new UsageError(usage)
  return name
}

function contextOf(args: Args): Record<string, unknown> {
  const body: Record<string, unknown> = {}
  const profile = flag(args, 'profile')
  const journey = flag(args, 'journey')
  const event = flag(args, 'event')
  if (profile) body.profile = profile
  if (journey) body.journey = journey
  if (event) {
    try {
      body.event = JSON.parse(event)
    } catch {
      throw new UsageError(
        '--event must be JSON, e.g. --event \'{"name":"Signed Up","properties":{"plan":"pro"}}\'',
      )
    }
  }
  return body
}

const problemLines = (problems: readonly Problem[]) =>
  problems.map((p) => `${p.part ? `${p.part}: ` : ''}${p.message}\n`).join('')

function call<T>(path: string, body: unknown, template: string): Promise<T> {
  return makeClient()
    .admin<T>('POST', `/api/v1/templates/${encodeURIComponent(template)}/${path}`, body)
    .catch((err: unknown) => {
      if (err instanceof CliError && err.status === 404)
        throw new CliError(err.message.replace(/^Nudge answered HTTP 404 NUDGE_ERR_NOT_FOUND: /, ''), 404)
      throw err
    })
}

export async function preview(args: Args): Promise<void> {
  const template = templateOf(args, PREVIEW_USAGE)
  const answer = await call<Preview>('preview', contextOf(args), template)
  if (args.flags['json']) process.stdout.write(`${JSON.stringify(answer, null, 2)}\n`)
  else {
    const { subject, text, url } = answer.parts
    const lines = [
      ...(subject !== undefined ? [`Subject: ${subject}`] : []),
      ...(url !== undefined ? [`URL: ${url}`] : []),
      ...(text !== undefined ? ['', text] : []),
    ]
    process.stdout.write(`${lines.join('\n')}\n`)
  }
  if (answer.problems.length > 0) {
    process.stderr.write(
      `${answer.problems.length} problem(s) would stop this message:\n${problemLines(answer.problems)}`,
    )
    process.exitCode = 1
  }
}

export async function sendTest(args: Args): Promise<void> {
  const template = templateOf(args, SEND_USAGE)
  const to = flag(args, 'to')
  if (!to) throw new UsageError(`--to is required\n${SEND_USAGE}`)
  const channel = flag(args, 'channel')
  const answer = await call<TestSend>(
    'send-test',
    { to, ...(channel ? { channel } : {}), ...contextOf(args) },
    template,
  )
  if (args.flags['json']) {
    process.stdout.write(`${JSON.stringify(answer, null, 2)}\n`)
    if (!answer.result.ok) process.exitCode = 1
    return
  }
  if (answer.result.ok) {
    const id = answer.result.providerId ? ` (${answer.result.providerId})` : ''
    process.stdout.write(`Sent a test of "${template}" to ${to} by ${answer.channel}${id}\n`)
    return
  }
  process.stderr.write(
    `The test of "${template}" was not sent (${answer.result.kind}): ${answer.result.reason}\n${problemLines(answer.problems)}`,
  )
  process.exitCode = 1
}
