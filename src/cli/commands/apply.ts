// nudge apply <dir> [--publish] [--templates <dir>]
// Validates everything first and sends nothing if anything is wrong; then sends the
// templates, then the journeys, to the running server's admin API. Each document is applied
// atomically there, and an identical one changes nothing, so re-applying is safe.
import { type Args, flag, UsageError } from '../args.ts'
import { makeClient } from '../client.ts'
import { loadJourneysAsCode } from '../journey-files.ts'

const USAGE = 'Usage: nudge apply <dir> [--publish] [--templates <dir>]'

interface Applied {
  outcome: 'created' | 'versioned' | 'unchanged'
  version: number
  journey: { id: string; status: string; liveVersion: number | null }
}

export async function apply(args: Args): Promise<void> {
  if (args.positionals.length === 0) throw new UsageError(USAGE)
  const ws = await loadJourneysAsCode(args.positionals, flag(args, 'templates'))
  const out = (s: string) => process.stdout.write(`${s}\n`)
  if (ws.problems.length > 0) {
    for (const p of ws.problems) out(p)
    out(
      `Nothing was applied: fix the ${ws.problems.length} problem${ws.problems.length === 1 ? '' : 's'} above`,
    )
    process.exitCode = 1
    return
  }
  const api = makeClient()
  for (const t of ws.templates) {
    const res = await api.admin<{ outcome: string }>(
      'PUT',
      `/api/v1/templates/${encodeURIComponent(t.name)}`,
      t,
    )
    out(`template ${t.name}: ${res.outcome}`)
  }
  const publish = args.flags.publish === true
  for (const { journey } of ws.journeys) {
    const res = await api.admin<Applied>('POST', '/api/v1/journeys', journey)
    let line = `journey ${journey.id}: ${res.outcome} (v${res.version})`
    // The directory is what should run: publish what is not live yet, leave paused and archived ones be.
    const publishable = res.journey.status === 'draft' || res.journey.status === 'published'
    if (publish && publishable && res.journey.liveVersion !== res.version) {
      await api.admin('POST', `/api/v1/journeys/${encodeURIComponent(journey.id)}/publish`, {
        version: res.version,
      })
      line += ', published'
    }
    out(line)
  }
  out(`Applied ${ws.journeys.length} journeys and ${ws.templates.length} templates to ${api.url}`)
}
