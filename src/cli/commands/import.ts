// nudge import <file>: NDJSON of Segment messages, or CSV of profiles, sent to the
// running server's /v1/batch with the write key. Prints a summary with the line
// number and reason of every rejected row; exits 1 when a row was rejected.
import { stat } from 'node:fs/promises'
import { extname } from 'node:path'
import { type Args, flag, UsageError } from '../args.ts'
import { CliError, makeClient } from '../client.ts'
import { readCsv } from '../import/csv.ts'
import { readNdjson } from '../import/ndjson.ts'
import { makeSender } from '../import/sender.ts'
import { makeProgress } from '../progress.ts'

const SHOWN_REJECTIONS = 100

function formatOf(file: string, given: string | undefined): 'ndjson' | 'csv' {
  const f = given ?? (extname(file).toLowerCase() === '.csv' ? 'csv' : 'ndjson')
  if (f !== 'ndjson' && f !== 'csv') throw new UsageError('--format must be ndjson or csv')
  return f
}

export async function importFile(args: Args): Promise<void> {
  const file = args.positionals[0]
  if (!file) throw new UsageError('Usage: nudge import <file.ndjson|file.csv> [--format ndjson|csv]')
  const size = await stat(file).then(
    (s) => s.size,
    () => {
      throw new CliError(`Cannot read ${file}`)
    },
  )
  const format = formatOf(file, flag(args, 'format'))
  const client = makeClient()
  const sender = makeSender(client)
  const progress = makeProgress(size)
  const unit = format === 'csv' ? 'rows' : 'lines'
  const read = format === 'csv' ? readCsv : readNdjson
  const count = await read(file, sender, (bytes, n) => progress.update(bytes, `${n} ${unit} read`))
  const summary = await sender.finish()
  progress.finish(`${count} ${unit} read`)

  const out = [
    `Imported ${file} into ${client.url}`,
    `  accepted:   ${summary.accepted}`,
    `  duplicates: ${summary.duplicates}`,
    `  rejected:   ${summary.rejected.length}`,
    ...summary.rejected.slice(0, SHOWN_REJECTIONS).map((r) => `    line ${r.line}: ${r.reason}`),
  ]
  if (summary.rejected.length > SHOWN_REJECTIONS)
    out.push(`    … and ${summary.rejected.length - SHOWN_REJECTIONS} more`)
  process.stdout.write(`${out.join('\n')}\n`)
  if (summary.rejected.length) process.exitCode = 1
}
