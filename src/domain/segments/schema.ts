// Validation of segment definitions (files and admin API). Beyond the condition schema,
// a segment may not test the event being processed: membership is a fact about the
// profile, so it must not flip on and off with each event.
import { z } from 'zod'
import { conditionRefs } from '../conditions/references.ts'
import { ConditionSchema, issuesOf, type ParseResult } from '../conditions/schema.ts'
import type { Segment } from './types.ts'

export const SEGMENT_ID = /^[a-z0-9][a-z0-9_-]{0,63}$/

export const SegmentSchema: z.ZodType<Segment> = z
  .strictObject(
    {
      id: z.string({ error: 'id must be a text' }).regex(SEGMENT_ID, {
        error:
          'id must be 1-64 lowercase letters, digits, - or _, starting with a letter or digit (such as power-users)',
      }),
      name: z.string({ error: 'name must be a text' }).trim().min(1, { error: 'name must not be empty' }),
      description: z.string({ error: 'description must be a text' }).exactOptional(),
      condition: ConditionSchema,
    },
    {
      error: (iss) =>
        iss.code === 'unrecognized_keys'
          ? `unknown field ${iss.keys.map((k) => `'${k}'`).join(', ')}: a segment has id, name, description, condition`
          : undefined,
    },
  )
  .superRefine((s, ctx) => {
    const refs = conditionRefs(s.condition)
    if (refs.currentEvent) {
      ctx.addIssue({
        code: 'custom',
        path: ['condition'],
        input: s.condition,
        message: 'a segment cannot test the event being processed (type: event): use a performed condition',
      })
    }
    if (refs.segments.has(s.id)) {
      ctx.addIssue({
        code: 'custom',
        path: ['condition'],
        input: s.condition,
        message: `segment ${s.id} cannot depend on itself`,
      })
    }
  })

export function parseSegment(input: unknown, prefix = ''): ParseResult<Segment> {
  const r = SegmentSchema.safeParse(input)
  return r.success ? { ok: true, value: r.data } : { ok: false, issues: issuesOf(r.error, prefix) }
}
