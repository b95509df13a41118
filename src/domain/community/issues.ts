// Validation issues in one format for every community configuration: a dotted path with
// indexes ("stages[2].criteria.conditions[0].stage") and a message that says what to fix.
import type { z } from 'zod'
import { formatPath } from '../conditions/schema.ts'
import type { ErrorIssue } from '../errors.ts'

/** zod issues as ours; a misspelt key is reported at its own path, one issue per key. */
export function zodIssues(error: z.ZodError): ErrorIssue[] {
  return error.issues.flatMap((i) =>
    i.code === 'unrecognized_keys'
      ? i.keys.map((k) => ({ path: formatPath([...i.path, k]), message: `unknown field "${k}"` }))
      : [{ path: formatPath(i.path), message: i.message }],
  )
}
