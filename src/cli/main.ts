// The `nudge` command. Each command is a module under ./commands.
import { NudgeError } from '../domain/errors.ts'
import { type Args, parse, UsageError } from './args.ts'
import { CliError } from './client.ts'

type Command = { describe: string; run: (args: Args) => Promise<void> }

const commands: Record<string, Command> = {
  start: {
    describe:
      'run the server (--config nudge.config.yaml, --port 3000, --role api|worker|all, --inbound-smtp-port 2525)',
    run: async (a) => (await import('./commands/start.ts')).start(a),
  },
  demo: {
    describe: 'fill a workspace with a realistic community (--members 10000)',
    run: async (a) => (await import('./commands/demo.ts')).demo(a),
  },
  migrate: {
    describe: 'apply database migrations (--config nudge.config.yaml)',
    run: async (a) => (await import('./commands/migrate.ts')).migrate(a),
  },
  keys: {
    describe: 'list | create --kind write|admin [--name n] | revoke <id>  (--direct: no server)',
    run: async (a) => (await import('./commands/keys.ts')).keys(a),
  },
  import: {
    describe: 'import <file>: NDJSON of Segment events or CSV of profiles',
    run: async (a) => (await import('./commands/import.ts')).importFile(a),
  },
  validate: {
    describe: 'validate <files or folders...> [--templates dir]: check journey files offline',
    run: async (a) => (await import('./commands/validate.ts')).validate(a),
  },
  apply: {
    describe: 'apply <dir> [--publish]: send templates and journeys to the running server',
    run: async (a) => (await import('./commands/apply.ts')).apply(a),
  },
  simulate: {
    describe: 'simulate <journeys...> --events file.ndjson | --since 30d: who would get what, and when',
    run: async (a) => (await import('./commands/simulate.ts')).simulateCommand(a),
  },
  why: {
    describe: 'why <profile> [--journey j] [--template t]: the journeys of a person, in sentences',
    run: async (a) => (await import('./commands/why.ts')).why(a),
  },
  preview: {
    describe:
      'preview <template> [--profile p] [--event json]: the message as it would be sent, and its problems',
    run: async (a) => (await import('./commands/send-test.ts')).preview(a),
  },
  'send-test': {
    describe:
      'send-test <template> --to <email|phone|profile> [--profile p] [--event json]: send one test now',
    run: async (a) => (await import('./commands/send-test.ts')).sendTest(a),
  },
  export: {
    describe: 'export profiles|events [--format ndjson|csv] [--out file]',
    run: async (a) => (await import('./commands/export.ts')).exportData(a),
  },
}

function usage(): string {
  const width = Math.max(...Object.keys(commands).map((c) => c.length))
  return `Usage: nudge <command> [options]\n\n${Object.entries(commands)
    .map(([name, c]) => `  ${name.padEnd(width)}  ${c.describe}`)
    .join('\n')}\n`
}

const [name, ...rest] = process.argv.slice(2)
const command = name ? commands[name] : undefined
if (!command) {
  process.stderr.write(
    name && name !== 'help' && name !== '--help' ? `Unknown command "${name}"\n\n${usage()}` : usage(),
  )
  process.exitCode = name && name !== 'help' && name !== '--help' ? 2 : 0
} else {
  command.run(parse(rest)).catch((err: unknown) => {
    if (err instanceof NudgeError || err instanceof UsageError || err instanceof CliError) {
      process.stderr.write(`${err.message}\n`)
      process.exitCode = err instanceof UsageError ? 2 : 1
    } else {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
      process.exitCode = 1
    }
  })
}
