// nudge simulate <journey files...> (--events <file.ndjson> | --since 30d) [--until …]
// [--templates dir] [--json]: runs the journeys on a virtual clock over the events and
// prints who would get what and when. Offline with --events; --since reads the stored
// history of the running instance. Nothing is ever sent or written.
import { readFile } from 'node:fs/promises'
import { parse as parseYaml } from 'yaml'
import { validateStageConfig } from '../../domain/community/stage-config.ts'
import { evaluate } from '../../domain/conditions/evaluate.ts'
import { parseDuration } from '../../domain/journeys/duration.ts'
import { formatIssue, parseJourneyDocument } from '../../domain/journeys/parse.ts'
import { simulate } from '../../domain/journeys/simulate.ts'
import type { Journey } from '../../domain/journeys/types.ts'
import { STAGES } from '../../runtime/journeys/runtime.ts'
import { loadTemplateFolder } from '../../store/template-files.ts'
import { type Args, flag, UsageError } from '../args.ts'
import { CliError, makeClient } from '../client.ts'
import { eventsFromFile, eventsFromServer, type LoadedEvents } from '../simulate/events.ts'
import { jsonReport, textReport } from '../simulate/report.ts'

const USAGE =
  'Usage: nudge simulate <journey files...> (--events <file.ndjson> | --since <30d | ISO date>) ' +
  '[--until <ISO date | duration after the last event, 30d by default>] [--templates <dir>] ' +
  '[--funnel <file>] [--json]'

const DEFAULT_TAIL = '30d'

async function templateNames(dir: string | undefined): Promise<string[] | undefined> {
  if (!dir) return undefined
  const folder = await loadTemplateFolder(dir).catch((err: Error) => {
    throw new CliError(`Cannot read the templates in ${dir}: ${err.message}`)
  })
  if (folder.errors.length)
    throw new CliError(
      folder.errors.flatMap((e) => e.issues.map((i) => `${e.file}: ${i.path}: ${i.message}`)).join('\n'),
    )
  return [...folder.templates.keys()]
}

async function loadJourneys(files: readonly string[], templates: string[] | undefined): Promise<Journey[]> {
  const journeys: Journey[] = []
  const problems: string[] = []
  for (const file of files) {
    const text = await readFile(file, 'utf8').catch(() => {
      throw new CliError(`Cannot read ${file}`)
    })
    const parsed = parseJourneyDocument(text, file, templates ? { templates } : {})
    if (!parsed.ok) problems.push(...parsed.errors.map(formatIssue))
    else if (journeys.some((j) => j.id === parsed.journey.id))
      problems.push(`${file}: id: journey ${parsed.journey.id} is given twice`)
    else journeys.push(parsed.journey)
  }
  if (problems.length) throw new CliError(problems.join('\n'))
  return journeys
}

/**
 * The funnel `stage` conditions are judged by: the file of --funnel (what PUT
 * /api/v1/community/stages takes as `config`), else with --since the running server's, else
 * the default one.
 */
async function funnelOf(args: Args, fromServer: boolean): Promise<readonly string[]> {
  const file = flag(args, 'funnel')
  if (file !== undefined) {
    const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
      throw new CliError(`Cannot read ${file} (${err.code ?? err.message})`)
    })
    let doc: unknown
    try {
      doc = parseYaml(text)
    } catch (err) {
      throw new CliError(`${file}: not valid YAML or JSON: ${(err as Error).message}`)
    }
    // The answer of GET /api/v1/community/stages, saved as it came, is taken too.
    if (doc && typeof doc === 'object' && !Array.isArray(doc) && Object.keys(doc).join() === 'config')
      doc = (doc as { config: unknown }).config
    const checked = validateStageConfig(doc)
    if (!checked.ok)
      throw new CliError(
        checked.issues.map((i) => `${file}: ${i.path || '(the document)'}: ${i.message}`).join('\n'),
      )
    return checked.value.ids
  }
  if (!fromServer) return STAGES
  let answer: { config: unknown }
  try {
    answer = await makeClient().admin<{ config: unknown }>('GET', '/api/v1/community/stages')
  } catch (err) {
    if (!(err instanceof CliError) || err.status !== 404) throw err
    process.stderr.write(
      'The server has no funnel to read (GET /api/v1/community/stages): the default funnel is used; --funnel <file> gives another.\n',
    )
    return STAGES
  }
  const checked = validateStageConfig(answer.config)
  if (checked.ok) return checked.value.ids
  process.stderr.write(
    `The server's funnel is not valid (${checked.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}): the default funnel is used.\n`,
  )
  return STAGES
}

/** --since: a duration before now (30d), or an ISO date. */
function sinceOf(args: Args, now: Date): Date | undefined {
  const text = flag(args, 'since')
  if (text === undefined) return undefined
  const ms = parseDuration(text)
  if (ms !== null && ms > 0) return new Date(now.getTime() - ms)
  const date = new Date(text)
  if (!/^\d{4}-\d\d-\d\d/.test(text) || Number.isNaN(date.getTime()))
    throw new UsageError(
      '--since must be a duration such as 30d or 2w, or an ISO date (2026-03-01T00:00:00Z)',
    )
  return date
}

/** --until: an ISO date, or a duration after the last event. */
function untilOf(args: Args, lastEvent: Date | null, fallback: Date): Date {
  const text = flag(args, 'until') ?? DEFAULT_TAIL
  const ms = parseDuration(text)
  if (ms !== null && ms >= 0) return new Date((lastEvent ?? fallback).getTime() + ms)
  const date = new Date(text)
  if (Number.isNaN(date.getTime()))
    throw new UsageError('--until must be an ISO date (2026-04-01T00:00:00Z) or a duration such as 30d')
  return date
}

/** The first or last event time (a loop: a large array must not be spread into arguments). */
function edge(loaded: LoadedEvents, which: 'first' | 'last'): Date | null {
  let t: number | null = null
  for (const e of loaded.events) {
    const x = e.event.timestamp.getTime()
    if (t === null || (which === 'first' ? x < t : x > t)) t = x
  }
  return t === null ? null : new Date(t)
}

export async function simulateCommand(args: Args): Promise<void> {
  const files = args.positionals
  const eventsFile = flag(args, 'events')
  const now = new Date()
  const since = sinceOf(args, now)
  if (files.length === 0 || (eventsFile === undefined) === (since === undefined)) throw new UsageError(USAGE)
  const journeys = await loadJourneys(files, await templateNames(flag(args, 'templates')))
  const stages = await funnelOf(args, since !== undefined)

  let loaded: LoadedEvents
  let from: Date
  if (eventsFile !== undefined) {
    loaded = await eventsFromFile(eventsFile, now).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'EISDIR') throw new CliError(`Cannot read ${eventsFile}`)
      throw err
    })
    const first = edge(loaded, 'first')
    from = first ?? now
  } else {
    from = since ?? now
    loaded = await eventsFromServer(makeClient(), from, now)
  }
  const until = untilOf(args, edge(loaded, 'last'), now)
  if (until < from) throw new UsageError('--until is before the first event')

  const result = simulate(journeys, loaded.events, { start: from, end: until, evaluate, stages })
  const window = { from, until }
  if (args.flags['json']) {
    const json = { ...jsonReport(result, window), rejected: loaded.rejected, leftOut: loaded.ownLeftOut }
    process.stdout.write(`${JSON.stringify(json, null, 2)}\n`)
  } else {
    process.stdout.write(textReport(result, window))
    if (loaded.ownLeftOut)
      process.stdout.write(`(${loaded.ownLeftOut} events Nudge emitted for its own journeys were left out)\n`)
  }
  for (const r of loaded.rejected) process.stderr.write(`line ${r.line}: ${r.reason}\n`)
  if (loaded.rejected.length) {
    process.stderr.write(`${loaded.rejected.length} lines were not valid events and were left out\n`)
    process.exitCode = 1
  }
}
