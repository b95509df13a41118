// Badge rules: what earns a badge (a specific event, N events of a kind, a score, a stage,
// any condition), their schema, and the checks that reject a rule that could never fire.
import { z } from 'zod'
import { type KnownNames, type NamedRef, namedRefs, unknownRef } from '../conditions/references.ts'
import { ConditionSchema, FieldFilterSchema, formatPath } from '../conditions/schema.ts'
import type { Condition, FieldFilter } from '../conditions/types.ts'
import type { ErrorIssue } from '../errors.ts'
import { zodIssues } from './issues.ts'
import type { ValidationResult } from './stage-config.ts'

export type BadgeWhen =
  /** Each time the member performs this event (e.g. `Event Attended`). */
  | { readonly type: 'event'; readonly event: string; readonly where?: readonly FieldFilter[] }
  /** Every `count` events of a kind, counted over all history. */
  | {
      readonly type: 'count'
      readonly event: string
      readonly where?: readonly FieldFilter[]
      readonly count: number
    }
  /** The engagement score reaches `min`. */
  | { readonly type: 'score'; readonly min: number }
  /** The member reaches `stage` (or any later one). */
  | { readonly type: 'stage'; readonly stage: string }
  | { readonly type: 'condition'; readonly condition: Condition }

export interface BadgeRule {
  /** Stable identifier used in conditions and events: lower_snake_case. */
  readonly id: string
  readonly name: string
  readonly description?: string
  /** Awarded again on every new occurrence (event and count rules only). */
  readonly repeatable?: boolean
  readonly when: BadgeWhen
}

const where = z.array(FieldFilterSchema).optional()

export const badgeRuleSchema = z
  .strictObject({
    id: z
      .string()
      .regex(/^[a-z][a-z0-9_]*$/, 'a badge id is lower_snake_case, e.g. "first_topic"')
      .max(64),
    name: z.string().trim().min(1, 'a badge needs a name').max(100),
    description: z.string().max(1000).optional(),
    repeatable: z.boolean().optional(),
    when: z.discriminatedUnion('type', [
      z.strictObject({ type: z.literal('event'), event: z.string().min(1), where }),
      z.strictObject({
        type: z.literal('count'),
        event: z.string().min(1),
        where,
        count: z
          .number()
          .int('count must be a whole number of events')
          .min(1, 'count must be at least 1: a badge for 0 events would go to everyone, below 0 to no one'),
      }),
      z.strictObject({
        type: z.literal('score'),
        min: z.number().finite().positive('min must be above zero: every member has a score of 0 or more'),
      }),
      z.strictObject({ type: z.literal('stage'), stage: z.string().min(1) }),
      z.strictObject({ type: z.literal('condition'), condition: ConditionSchema }),
    ]),
  })
  .superRefine((r, ctx) => {
    if (r.repeatable && r.when.type !== 'event' && r.when.type !== 'count') {
      ctx.addIssue({
        code: 'custom',
        path: ['repeatable'],
        message: `a ${r.when.type} badge cannot be repeatable: its rule stays true and would award on every event`,
      })
    }
  })

export interface BadgeKnownNames extends KnownNames {
  /** The highest score a member can reach, when the workspace bounds it. */
  readonly maxScore?: number
}

/**
 * Parses a list of rules and rejects, with the path of each problem, anything that
 * could never fire: an event or stage that does not exist, a score above the maximum,
 * a rule that requires its own badge. `known.badges` lists badges defined elsewhere;
 * the rules' own ids are always known.
 */
export function validateBadgeRules(
  input: unknown,
  known: BadgeKnownNames = {},
): ValidationResult<readonly BadgeRule[]> {
  const parsed = z.array(badgeRuleSchema).safeParse(input)
  if (!parsed.success) return { ok: false, issues: zodIssues(parsed.error) }
  const rules = parsed.data as readonly BadgeRule[]
  const issues = checkBadgeRules(rules, known)
  return issues.length ? { ok: false, issues } : { ok: true, value: rules }
}

export function checkBadgeRules(rules: readonly BadgeRule[], known: BadgeKnownNames = {}): ErrorIssue[] {
  const issues: ErrorIssue[] = []
  const seen = new Map<string, number>()
  rules.forEach((r, i) => {
    const prev = seen.get(r.id)
    if (prev !== undefined)
      issues.push({ path: `[${i}].id`, message: `duplicate badge id "${r.id}" (also [${prev}])` })
    else seen.set(r.id, i)
  })
  const names: KnownNames = {
    ...known,
    ...(known.badges ? { badges: [...known.badges, ...seen.keys()] } : {}),
  }
  const NEVER = ': this badge could never be awarded'
  for (const [i, r] of rules.entries()) {
    const at = (...p: (string | number)[]) => formatPath([i, 'when', ...p])
    const w = r.when
    const problem = (ref: NamedRef, suffix = '') => {
      const p = unknownRef(ref, names)
      if (p) issues.push({ path: at(...ref.path), message: p + suffix })
    }
    switch (w.type) {
      case 'event':
      case 'count':
        problem({ kind: 'event', name: w.event, path: ['event'] }, NEVER)
        break
      case 'score':
        if (known.maxScore !== undefined && w.min > known.maxScore) {
          issues.push({
            path: at('min'),
            message: `min ${w.min} is above the highest possible score (${known.maxScore})${NEVER}`,
          })
        }
        break
      case 'stage':
        problem({ kind: 'stage', name: w.stage, path: ['stage'] }, NEVER)
        break
      case 'condition':
        for (const ref of namedRefs(w.condition, ['condition'])) {
          if (ref.kind === 'badge' && ref.name === r.id) {
            issues.push({ path: at(...ref.path), message: `badge "${r.id}" cannot depend on itself` })
          } else problem(ref)
        }
        break
      default: {
        const never: never = w
        return never
      }
    }
  }
  return issues
}
