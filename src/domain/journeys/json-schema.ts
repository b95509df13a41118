// The published JSON Schema of journey files, generated from the zod schema so the two
// never disagree. `npm run schemas` writes it to schemas/journey.schema.json.
import { z } from 'zod'
import { JourneySchema } from './schema.ts'

export function journeyJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(JourneySchema, { target: 'draft-2020-12', io: 'input' }) as Record<string, unknown>
}

/** The file's exact text: stable key order, two-space indent, final newline. */
export function journeyJsonSchemaText(): string {
  return `${JSON.stringify(journeyJsonSchema(), null, 2)}\n`
}
