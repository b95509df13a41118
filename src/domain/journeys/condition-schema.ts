// Zod schema of the Condition contract (../conditions/types.ts), used inside journey
// documents. If the conditions module publishes its own schema, this file is replaced by a
// re-export of it.
import { z } from 'zod'
import type { CompareOp, Condition, FieldFilter } from '../conditions/types.ts'
import { isDuration } from './duration.ts'

export const DurationSchema = z
  .string()
  .refine(isDuration, { error: 'not a duration: write a number and a unit, e.g. 30m, 2h, 3d, 1w' })
  .meta({ id: 'Duration', description: 'A duration: 30m, 2h, 3d, 1w (or combined, e.g. 1d12h)' })

const COMPARE_OPS = [
  'eq',
  'ne',
  'gt',
  'gte',
  'lt',
  'lte',
  'contains',
  'not_contains',
  'exists',
  'not_exists',
  'in',
  'not_in',
  'before',
  'after',
  'within_last',
  'within_next',
] as const satisfies readonly CompareOp[]

export const CompareOpSchema = z.enum(COMPARE_OPS)

const filterShape = {
  path: z.string().min(1).meta({ description: 'Dot path, e.g. properties.forum' }),
  op: CompareOpSchema,
  value: z.unknown().exactOptional(),
}

export const FieldFilterSchema: z.ZodType<FieldFilter> = z
  .strictObject(filterShape)
  .meta({ id: 'FieldFilter', description: 'Compares one field with a value' })

export const ConditionSchema: z.ZodType<Condition> = z
  .lazy(() =>
    z.discriminatedUnion('type', [
      z.strictObject({ type: z.literal('all'), conditions: z.array(ConditionSchema) }),
      z.strictObject({ type: z.literal('any'), conditions: z.array(ConditionSchema) }),
      z.strictObject({ type: z.literal('not'), condition: ConditionSchema }),
      z.strictObject({ type: z.literal('trait'), ...filterShape }),
      z.strictObject({ type: z.literal('event'), ...filterShape }),
      z.strictObject({
        type: z.literal('performed'),
        event: z.string().min(1),
        where: z.array(FieldFilterSchema).exactOptional(),
        within: DurationSchema.exactOptional(),
        between: z.strictObject({ from: z.string(), to: z.string() }).exactOptional(),
        min: z.number().int().nonnegative().exactOptional(),
        max: z.number().int().nonnegative().exactOptional(),
      }),
      z.strictObject({
        type: z.enum(['first_seen', 'last_seen']),
        op: CompareOpSchema,
        value: z.unknown().exactOptional(),
      }),
      z.strictObject({
        type: z.literal('segment'),
        segment: z.string().min(1),
        member: z.boolean().default(true),
      }),
      z.strictObject({
        type: z.literal('stage'),
        op: z.enum(['eq', 'ne', 'gte', 'lte']),
        stage: z.string().min(1),
      }),
      z.strictObject({ type: z.literal('badge'), badge: z.string().min(1), has: z.boolean().default(true) }),
      z.strictObject({ type: z.literal('score'), op: z.enum(['gt', 'gte', 'lt', 'lte']), value: z.number() }),
    ]),
  )
  .meta({ id: 'Condition', description: 'A boolean expression over the profile, the event and time' })
