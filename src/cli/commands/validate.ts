// nudge validate <files or folders...> [--templates <dir>]
// Offline: reads journey files and the templates beside them, prints every problem, and
// exits 1 if there is any. No server, no database.
import { type Args, flag, UsageError } from '../args.ts'
import { loadJourneysAsCode } from '../journey-files.ts'

export const VALIDATE_USAGE = 'Usage: nudge validate <files or folders...> [--templates <dir>]'

export async function validate(args: Args): Promise<void> {
  if (args.positionals.length === 0) throw new UsageError(VALIDATE_USAGE)
  const ws = await loadJourneysAsCode(args.positionals, flag(args, 'templates'))
  const out = (s: string) => process.stdout.write(`${s}\n`)
  if (!ws.templatesDir)
    process.stderr.write(
      'No templates/ folder found beside the journeys: template names are not checked (use --templates <dir>)\n',
    )
  for (const p of ws.problems) out(p)
  if (ws.problems.length > 0) {
    out(`${ws.problems.length} problem${ws.problems.length === 1 ? '' : 's'} found`)
    process.exitCode = 1
    return
  }
  const templates = ws.templatesDir ? ` and ${ws.templates.length} templates` : ''
  out(`${ws.journeys.length} journeys${templates} are valid`)
}
