// nudge why <profile> [--journey J] [--template T] [--json]: the journeys of a person told in
// sentences, from the running server's trace (GET /api/v1/profiles/{id}/journeys).
import { type Args, flag, UsageError } from '../args.ts'
import { CliError, makeClient } from '../client.ts'

const USAGE =
  'Usage: nudge why <userId|anonymousId> [--journey <journey id>] [--template <template>] [--json]'

interface Answer {
  readonly profile: { readonly id: string; readonly userId: string | null }
  readonly journeys: readonly {
    readonly journeyId: string
    readonly name: string
    readonly story: readonly string[]
    readonly why?: readonly string[]
  }[]
}

export async function why(args: Args): Promise<void> {
  const who = args.positionals[0]
  if (!who || args.positionals.length > 1) throw new UsageError(USAGE)
  const query = new URLSearchParams()
  const journey = flag(args, 'journey')
  const template = flag(args, 'template')
  if (journey) query.set('journey', journey)
  if (template) query.set('template', template)
  const path = `/api/v1/profiles/${encodeURIComponent(who)}/journeys${query.size ? `?${query}` : ''}`
  let answer: Answer
  try {
    answer = await makeClient().admin<Answer>('GET', path)
  } catch (err) {
    if (err instanceof CliError && err.status === 404 && err.message.includes('No profile has'))
      throw new CliError(
        `No profile has the userId, anonymousId or id "${who}" in this workspace. ` +
          'Check the spelling; "nudge export profiles" lists them.',
      )
    throw err
  }
  if (args.flags['json']) {
    process.stdout.write(`${JSON.stringify(answer, null, 2)}\n`)
    return
  }
  if (answer.journeys.length === 0) {
    const what = template ? `no journey sends ${template} and ` : ''
    process.stdout.write(`${who}: ${what}no journey was entered or tried yet.\n`)
    return
  }
  const blocks = answer.journeys.map((j) =>
    [`${j.name} (${j.journeyId})`, ...[...j.story, ...(j.why ?? [])].map((line) => `  ${line}`)].join('\n'),
  )
  process.stdout.write(`${blocks.join('\n\n')}\n`)
}
