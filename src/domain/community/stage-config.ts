// The community funnel as configured per workspace: an ordered list of stages, each with
// entry criteria, a "stuck after" threshold and an optional demotion rule. This file holds
// the types, the schema and the checks that need the whole list (duplicates, references).
import { z } from 'zod'
import { durationMs } from '../conditions/duration.ts'
import { type KnownNames, type NamedRef, namedRefs, unknownRef } from '../conditions/references.ts'
import { ConditionSchema, DurationSchema, formatPath } from '../conditions/schema.ts'
import type { Condition, DurationText } from '../conditions/types.ts'
import type { ErrorIssue } from '../errors.ts'
import { zodIssues } from './issues.ts'

export interface StageDemotion {
  /** Demote one stage once this has held for `grace` without interruption. */
  readonly when: Condition
  readonly grace: DurationText | number
}

export interface StageDef {
  /** Stable identifier used in conditions, events and reports: lower_snake_case. */
  readonly id: string
  /** What the community manager reads in the UI and reports. */
  readonly name: string
  /** Evaluated while the member stands in the previous stage. */
  readonly criteria: Condition
  /** A member longer than this in the stage gets `Stage Stuck` (once per entry). */
  readonly stuck_after?: DurationText | number
  readonly demotion?: StageDemotion
}

export interface StageConfig {
  readonly stages: readonly StageDef[]
}

/** A validated configuration with its durations parsed, ready for the pure functions. */
export interface CompiledStages {
  readonly stages: readonly StageDef[]
  readonly ids: readonly string[]
  readonly index: ReadonlyMap<string, number>
  readonly stuckAfterMs: readonly (number | null)[]
  readonly graceMs: readonly (number | null)[]
}

/** A duration that must not be zero; `message` says why for the field at hand. */
export const positiveDuration = (message: string) =>
  DurationSchema.refine((v) => durationMs(v) > 0, { message })

const stageSchema = z.strictObject({
  id: z
    .string()
    .regex(/^[a-z][a-z0-9_]*$/, 'a stage id is lower_snake_case, e.g. "active_member"')
    .max(64),
  name: z.string().trim().min(1, 'a stage needs a name').max(100),
  criteria: ConditionSchema,
  // A member cannot be stuck after no time at all.
  stuck_after: positiveDuration('stuck_after must be longer than zero').optional(),
  // A grace of zero is allowed: demote at the first evaluation where the rule holds.
  demotion: z.strictObject({ when: ConditionSchema, grace: DurationSchema }).optional(),
})

export const stageConfigSchema = z.strictObject({
  stages: z.array(stageSchema).min(1, 'the funnel needs at least one stage'),
})

export type ValidationResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly issues: readonly ErrorIssue[] }

export interface StageValidationOptions {
  /** Names the criteria may use; stages are always checked against the list itself. */
  readonly known?: Omit<KnownNames, 'stages'>
}

/**
 * Parses and checks a stage configuration. Every problem is reported with its path
 * ("stages[3].criteria.conditions[1].stage"), and nothing is returned unless all is well,
 * so a bad file changes nothing.
 */
export function validateStageConfig(
  input: unknown,
  opts: StageValidationOptions = {},
): ValidationResult<CompiledStages> {
  const parsed = stageConfigSchema.safeParse(input)
  if (!parsed.success) {
    return {
      ok: false,
      issues: zodIssues(parsed.error),
    }
  }
  // zod types optional keys as `T | undefined`; strictObject never produces an explicit undefined.
  const config = parsed.data as StageConfig
  const issues: ErrorIssue[] = []
  const seenIds = new Map<string, number>()
  const seenNames = new Map<string, number>()
  config.stages.forEach((s, i) => {
    const prevId = seenIds.get(s.id)
    if (prevId !== undefined) {
      issues.push({
        path: `stages[${i}].id`,
        message: `duplicate stage id "${s.id}" (also stages[${prevId}])`,
      })
    } else seenIds.set(s.id, i)
    const key = s.name.trim().toLowerCase()
    const prevName = seenNames.get(key)
    if (prevName !== undefined) {
      issues.push({
        path: `stages[${i}].name`,
        message: `duplicate stage name "${s.name}" (also stages[${prevName}])`,
      })
    } else seenNames.set(key, i)
  })
  config.stages.forEach((s, i) => {
    if (i === 0 && s.demotion) {
      issues.push({
        path: 'stages[0].demotion',
        message: 'the first stage has no stage below it to demote to',
      })
    }
    const check = (refs: NamedRef[], base: string, isCriteria: boolean) => {
      for (const ref of refs) {
        const path = formatPath(ref.path, `stages[${i}].${base}`)
        if (ref.kind === 'stage') {
          const target = seenIds.get(ref.name)
          if (target === undefined) issues.push({ path, message: `unknown stage "${ref.name}"` })
          else if (isCriteria && target >= i) {
            // Criteria are evaluated while the member is below this stage, so a reference to
            // this stage or a later one is a cycle: it could only hold after entering.
            issues.push({
              path,
              message: `the criteria of "${s.id}" depend on stage "${ref.name}", which is not below it: a stage cannot require itself or a later stage (cycle)`,
            })
          }
          continue
        }
        const problem = opts.known ? unknownRef(ref, opts.known) : null
        if (problem) issues.push({ path, message: problem })
      }
    }
    check(namedRefs(s.criteria), 'criteria', true)
    if (s.demotion) check(namedRefs(s.demotion.when), 'demotion.when', false)
  })
  if (issues.length) return { ok: false, issues }
  return { ok: true, value: compileStages(config) }
}

/** Trusts its input: call validateStageConfig first for anything that came from outside. */
export function compileStages(config: StageConfig): CompiledStages {
  return {
    stages: config.stages,
    ids: config.stages.map((s) => s.id),
    index: new Map(config.stages.map((s, i) => [s.id, i])),
    stuckAfterMs: config.stages.map((s) => (s.stuck_after === undefined ? null : durationMs(s.stuck_after))),
    graceMs: config.stages.map((s) => (s.demotion ? durationMs(s.demotion.grace) : null)),
  }
}
