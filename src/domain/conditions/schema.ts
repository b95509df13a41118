// Zod schemas for conditions as written in journey and segment files: strict about
// fields, with messages that say what to write instead. Parsing normalises: durations
// given as numbers become "<n>ms" texts, `member`/`has` default to true.
import { z } from 'zod'
import type { ErrorIssue } from '../errors.ts'
import { asInstant, asNumber } from './compare.ts'
import { parseDuration } from './duration.ts'
import { EVENT_ROOTS, eventRoot } from './paths.ts'
import type { CompareOp, Condition, FieldFilter } from './types.ts'

export const COMPARE_OPS = [
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

export const CONDITION_TYPES = [
  'all',
  'any',
  'not',
  'trait',
  'event',
  'performed',
  'first_seen',
  'last_seen',
  'segment',
  'stage',
  'badge',
  'score',
] as const satisfies readonly Condition['type'][]

const SEEN_OPS = ['before', 'after', 'within_last', 'within_next'] as const
const DURATION_HINT = 'is not a duration such as 30m, 2h, 3d'
const DATE_HINT = 'an ISO date such as 2026-01-31 or 2026-01-31T09:00:00Z'

const oneOf = (name: string, values: readonly string[]) => `${name} must be one of ${values.join(', ')}`

function quote(v: unknown): string {
  return typeof v === 'string' ? `'${v}'` : (JSON.stringify(v) ?? String(v))
}

/** A strict object whose unknown-field message lists the fields it does accept. */
function strict<S extends z.core.$ZodLooseShape>(what: string, shape: S) {
  const fields = Object.keys(shape).join(', ')
  return z.strictObject(shape, {
    error: (iss) =>
      iss.code === 'unrecognized_keys'
        ? `unknown field${iss.keys.length > 1 ? 's' : ''} ${iss.keys.map((k) => `'${k}'`).join(', ')}: ${what} has ${fields}`
        : undefined,
  })
}

const name = (what: string) =>
  z
    .string({ error: `${what} must be a text` })
    .trim()
    .min(1, { error: `${what} must not be empty` })

/** A duration: "30m", "1d12h"... or a number of milliseconds, kept as text ("90000ms"). */
export const DurationSchema = z
  .union([z.string(), z.number()], { error: 'must be a duration such as 30m, 2h, 3d' })
  .transform((v, ctx) => {
    const d = parseDuration(v)
    if (!d.ok) {
      ctx.addIssue({ code: 'custom', message: d.message, input: v })
      return z.NEVER
    }
    return typeof v === 'number' ? `${v}ms` : v
  })

const isoDate = (what: string) =>
  z.string({ error: `${what} must be ${DATE_HINT}` }).refine((v) => asInstant(v) !== null, {
    error: (iss) => `${what}: ${quote(iss.input)} is not ${DATE_HINT}`,
  })

const scalar = (v: unknown) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean'

/** Why `value` does not suit `op`, or null when it does. */
export function valueProblem(op: CompareOp, value: unknown, hasValue: boolean): string | null {
  switch (op) {
    case 'exists':
    case 'not_exists':
      return hasValue ? `${op} takes no value` : null
    case 'eq':
    case 'ne':
    case 'contains':
    case 'not_contains':
      return scalar(value) ? null : `${op} needs a value: a text, a number or true/false`
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
      return (typeof value === 'number' && Number.isFinite(value)) ||
        (typeof value === 'string' && (asNumber(value) !== null || asInstant(value) !== null))
        ? null
        : `${op} needs a number or ${DATE_HINT}${hasValue ? `, not ${quote(value)}` : ''}`
    case 'in':
    case 'not_in':
      if (!Array.isArray(value) || value.length === 0)
        return `${op} needs a list of values, such as [pro, team]`
      return value.every(scalar) ? null : `${op} needs a list of texts, numbers or true/false`
    case 'before':
    case 'after':
      return typeof value === 'string' && asInstant(value) !== null
        ? null
        : `${op} needs ${DATE_HINT}${hasValue ? `, not ${quote(value)}` : ''}`
    case 'within_last':
    case 'within_next': {
      if (!hasValue) return `${op} needs a duration such as 30m, 2h, 3d`
      const d = parseDuration(value)
      return d.ok ? null : `${op}: ${quote(value)} ${DURATION_HINT}`
    }
    default:
      return `unknown op ${quote(op)}`
  }
}

type Where = 'trait' | 'event' | 'where'

function checkFilter(
  f: { op: CompareOp; value?: unknown; path: string },
  where: Where,
  ctx: z.RefinementCtx,
) {
  const problem = valueProblem(f.op, f.value, Object.hasOwn(f, 'value') && f.value !== undefined)
  if (problem) ctx.addIssue({ code: 'custom', path: ['value'], message: problem, input: f.value })
  const segments = f.path.split('.')
  if (segments.some((s) => s === '')) {
    ctx.addIssue({
      code: 'custom',
      path: ['path'],
      message: `path ${quote(f.path)} has an empty part`,
      input: f.path,
    })
  } else if (where !== 'trait' && eventRoot(f.path) === null) {
    ctx.addIssue({
      code: 'custom',
      path: ['path'],
      input: f.path,
      message: `path must be ${EVENT_ROOTS.slice(0, 3).join(', ')} or start with properties., traits. or context. (did you mean properties.${f.path}?)`,
    })
  }
  if (where === 'where' && (f.op === 'within_last' || f.op === 'within_next')) {
    ctx.addIssue({
      code: 'custom',
      path: ['op'],
      input: f.op,
      message: `${f.op} is not allowed in where: use within on the performed condition`,
    })
  }
}

const opSchema = z.enum(COMPARE_OPS, { error: oneOf('op', COMPARE_OPS) })

const filterShape = {
  path: name('path'),
  op: opSchema,
  value: z.unknown().exactOptional(),
  ignoreCase: z.boolean({ error: 'ignoreCase must be true or false' }).exactOptional(),
}

/** A field filter in `where` lists (paths into the past event: properties.x, context.x, name). */
export const FieldFilterSchema: z.ZodType<FieldFilter> = strict('a filter', filterShape).superRefine(
  (f, ctx) => checkFilter(f, 'where', ctx),
)

const conditions = z.array(
  z.lazy(() => ConditionSchema),
  { error: 'conditions must be a list of conditions' },
)

const count = (what: string) =>
  z
    .number({ error: `${what} must be a number` })
    .int({ error: `${what} must be a whole number` })
    .min(0, { error: `${what} must be 0 or more` })
    .exactOptional()

const performed = strict('a performed condition', {
  type: z.literal('performed'),
  event: name('event'),
  where: z.array(FieldFilterSchema, { error: 'where must be a list of filters' }).exactOptional(),
  within: DurationSchema.exactOptional(),
  between: strict('between', { from: isoDate('from'), to: isoDate('to') })
    .refine((b) => (asInstant(b.from) ?? 0) <= (asInstant(b.to) ?? 0), {
      error: 'between: from must not be after to',
      path: ['to'],
    })
    .exactOptional(),
  min: count('min'),
  max: count('max'),
}).superRefine((c, ctx) => {
  if (c.within !== undefined && c.between !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['between'], message: 'use within or between, not both', input: c })
  }
  if (c.min !== undefined && c.max !== undefined && c.min > c.max) {
    ctx.addIssue({
      code: 'custom',
      path: ['max'],
      message: `max (${c.max}) is less than min (${c.min})`,
      input: c,
    })
  }
})

const seen = strict('a first_seen/last_seen condition', {
  type: z.literal(['first_seen', 'last_seen']),
  op: z.enum(SEEN_OPS, { error: oneOf('op', SEEN_OPS) }),
  value: z.unknown().exactOptional(),
}).superRefine((c, ctx) => {
  const problem = valueProblem(c.op, c.value, c.value !== undefined)
  if (problem) ctx.addIssue({ code: 'custom', path: ['value'], message: problem, input: c.value })
})

const STAGE_OPS = ['eq', 'ne', 'gte', 'lte'] as const
const SCORE_OPS = ['gt', 'gte', 'lt', 'lte'] as const

const options = [
  strict('an all condition', { type: z.literal('all'), conditions }),
  strict('an any condition', { type: z.literal('any'), conditions }),
  strict('a not condition', { type: z.literal('not'), condition: z.lazy(() => ConditionSchema) }),
  strict('a trait condition', { type: z.literal('trait'), ...filterShape }).superRefine((f, ctx) =>
    checkFilter(f, 'trait', ctx),
  ),
  strict('an event condition', { type: z.literal('event'), ...filterShape }).superRefine((f, ctx) =>
    checkFilter(f, 'event', ctx),
  ),
  performed,
  seen,
  strict('a segment condition', {
    type: z.literal('segment'),
    segment: name('segment'),
    member: z.boolean({ error: 'member must be true or false' }).default(true),
  }),
  strict('a stage condition', {
    type: z.literal('stage'),
    op: z.enum(STAGE_OPS, { error: oneOf('op', STAGE_OPS) }),
    stage: name('stage'),
  }),
  strict('a badge condition', {
    type: z.literal('badge'),
    badge: name('badge'),
    has: z.boolean({ error: 'has must be true or false' }).default(true),
  }),
  strict('a score condition', {
    type: z.literal('score'),
    op: z.enum(SCORE_OPS, { error: oneOf('op', SCORE_OPS) }),
    value: z.number({ error: 'value must be a number' }).finite(),
  }),
] as const

export const ConditionSchema: z.ZodType<Condition> = z.discriminatedUnion('type', options, {
  // zod reports a non-object input through this union's error too, typed or not.
  error: (iss) =>
    (iss as { code: string }).code === 'invalid_type'
      ? 'a condition must be an object with a type'
      : oneOf('type', CONDITION_TYPES),
})

/** "conditions[1].within" from zod's ['conditions', 1, 'within']. */
export function formatPath(path: readonly PropertyKey[], prefix = ''): string {
  let out = prefix
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? String(p) : `.${String(p)}`
  return out
}

export function issuesOf(error: z.ZodError, prefix = ''): ErrorIssue[] {
  return error.issues.map((i) => ({ path: formatPath(i.path, prefix), message: i.message }))
}

export type ParseResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly issues: readonly ErrorIssue[] }

/** Validates a condition from a file or a request; issue paths start with `prefix`. */
export function parseCondition(input: unknown, prefix = ''): ParseResult<Condition> {
  const r = ConditionSchema.safeParse(input)
  return r.success ? { ok: true, value: r.data } : { ok: false, issues: issuesOf(r.error, prefix) }
}
