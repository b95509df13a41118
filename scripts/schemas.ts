// Writes the published JSON Schemas (npm run schemas). A test fails when they are stale.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { journeyJsonSchemaText } from '../src/domain/journeys/json-schema.ts'

const out = join(import.meta.dirname, '..', 'schemas', 'journey.schema.json')
writeFileSync(out, journeyJsonSchemaText())
console.log(`wrote ${out}`)
