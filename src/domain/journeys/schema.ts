// Zod schemas of journey documents. Each schema carries the name of its type in ./types.ts
// and is annotated with it, so the two cannot drift. No transforms: the same schema is
// published as JSON Schema (schemas/journey.schema.json) for editors.
import { z } from 'zod'
import { ConditionSchema, DurationSchema, FieldFilterSchema } from './condition-schema.ts'
import { parseCron } from './cron.ts'
import type { Criterion, EntryRule, EventMatch, Goal, Journey, Step, Trigger } from './types.ts'
import { isTimezone } from './zoned-time.ts'

const TIME_OF_DAY = /^([01]\d|2[0-3]):[0-5]\d$/
const ID = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/

export const TimeOfDaySchema = z
  .string()
  .regex(TIME_OF_DAY, { error: 'a time of day is written HH:MM on a 24-hour clock, e.g. 09:30' })

export const TimezoneSchema = z
  .string()
  .refine(isTimezone, { error: 'unknown timezone: use an IANA name such as Europe/Paris' })
  .meta({ description: 'IANA timezone, e.g. Europe/Paris' })

const where = z.array(FieldFilterSchema).exactOptional()
const id = z
  .string()
  .regex(ID, { error: 'an id uses letters, digits, -, _ and . and starts with a letter or digit' })
const eventName = z.string().min(1, { error: 'name the event, e.g. Signed Up' })

const CorrelationSchema = z.union([
  z.string().min(1),
  z.strictObject({ trigger: z.string().min(1), event: z.string().min(1) }),
])

export const EventMatchSchema: z.ZodType<EventMatch> = z
  .strictObject({ event: eventName, where, correlate: CorrelationSchema.exactOptional() })
  .meta({ id: 'EventMatch', description: 'An event by name, narrowed by filters on its fields' })

const ConditionCriterionSchema = z.strictObject({ condition: ConditionSchema })

export const CriterionSchema: z.ZodType<Criterion> = z.union([EventMatchSchema, ConditionCriterionSchema])

export const GoalSchema: z.ZodType<Goal> = z.union([
  z.strictObject({
    event: eventName,
    where,
    correlate: CorrelationSchema.exactOptional(),
    within: DurationSchema.exactOptional(),
  }),
  z.strictObject({ condition: ConditionSchema, within: DurationSchema.exactOptional() }),
])

export const TriggerSchema: z.ZodType<Trigger> = z
  .discriminatedUnion('type', [
    z.strictObject({ type: z.literal('event'), event: eventName, where }),
    z.strictObject({
      type: z.literal('segment'),
      segment: z.string().min(1),
      on: z.enum(['entered', 'exited']),
    }),
    z.strictObject({
      type: z.literal('trait_changed'),
      trait: z.string().min(1),
      from: z.unknown().exactOptional(),
      to: z.unknown().exactOptional(),
    }),
    z.strictObject({
      type: z.literal('trait_crossed'),
      trait: z.string().min(1),
      threshold: z.number(),
      direction: z.enum(['up', 'down']).exactOptional(),
    }),
    z.strictObject({
      type: z.literal('date'),
      trait: z.string().min(1),
      offset: DurationSchema.exactOptional(),
      at: TimeOfDaySchema.exactOptional(),
      repeat: z.literal('yearly').exactOptional(),
    }),
    z.strictObject({
      type: z.literal('schedule'),
      cron: z.string().refine((c) => parseCron(c) !== null, {
        error: 'not a cron expression: five fields, minute hour day month weekday, e.g. "0 9 * * mon"',
      }),
      timezone: TimezoneSchema.exactOptional(),
      segment: z.string().min(1).exactOptional(),
    }),
  ])
  .meta({ id: 'Trigger', description: 'What starts a run' })

const EntryLimitSchema = z.strictObject({ count: z.number().int().positive(), per: DurationSchema })

export const EntryRuleSchema: z.ZodType<EntryRule> = z
  .discriminatedUnion('type', [
    z.strictObject({ type: z.literal('once') }),
    z.strictObject({ type: z.literal('every_time'), at_most: EntryLimitSchema.exactOptional() }),
    z.strictObject({
      type: z.literal('once_per_key'),
      key: z
        .string()
        .includes('{{', { error: 'the key is a template, e.g. "{{ event.properties.comment_id }}"' }),
      at_most: EntryLimitSchema.exactOptional(),
    }),
  ])
  .meta({ id: 'EntryRule', description: 'Who may enter, and how often' })

export const TimeWindowSchema = z
  .strictObject({
    from: TimeOfDaySchema,
    to: TimeOfDaySchema,
    days: z
      .array(z.enum(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']))
      .min(1)
      .exactOptional(),
    timezone: TimezoneSchema.exactOptional(),
  })
  .refine((w) => w.from < w.to, { error: 'a window ends after it starts, e.g. from: "09:00", to: "11:00"' })

const steps = () => z.array(StepSchema)

export const DelayStepSchema = z
  .strictObject({
    id: id.exactOptional(),
    type: z.literal('delay'),
    for: DurationSchema.exactOptional(),
    until: z
      .strictObject({ trait: z.string().min(1), offset: DurationSchema.exactOptional() })
      .exactOptional(),
    window: TimeWindowSchema.exactOptional(),
  })
  .refine((d) => d.for === undefined || d.until === undefined, {
    error: 'a delay waits either `for` a duration or `until` a date trait, not both',
  })
  .refine((d) => d.for !== undefined || d.until !== undefined || d.window !== undefined, {
    error: 'a delay needs `for` (e.g. for: 3d), `until` (a date trait) or a `window`',
  })

export const WaitStepSchema = z.strictObject({
  id: id.exactOptional(),
  type: z.literal('wait'),
  for: EventMatchSchema,
  timeout: z
    .string({ error: 'a wait needs a timeout, e.g. timeout: 3d' })
    .meta({ description: 'How long the wait lasts: a duration, 30m, 2h, 3d, 1w (or combined, e.g. 1d12h)' })
    .pipe(DurationSchema),
  get on_event() {
    return steps().exactOptional()
  },
  get on_timeout() {
    return steps().exactOptional()
  },
})

export const BranchStepSchema = z.strictObject({
  id: id.exactOptional(),
  type: z.literal('branch'),
  get paths() {
    return z
      .array(z.strictObject({ name: z.string().min(1), when: ConditionSchema, steps: steps() }))
      .min(1, { error: 'a branch needs at least one path with a `when` condition' })
  },
  get else() {
    return steps().exactOptional()
  },
})

export const SplitStepSchema = z.strictObject({
  id: id.exactOptional(),
  type: z.literal('split'),
  get variants() {
    return z
      .array(z.strictObject({ name: z.string().min(1), weight: z.number().positive(), steps: steps() }))
      .min(2, { error: 'a split needs at least two variants, e.g. a: 50 and b: 50' })
  },
})

export const SendStepSchema = z.strictObject({
  id: id.exactOptional(),
  type: z.literal('send'),
  channel: z.string().min(1),
  template: z.string().min(1),
  from: z.string().min(1).exactOptional(),
  reply_to: z.string().min(1).exactOptional(),
  plain_text: z.boolean().exactOptional(),
  transactional: z.boolean().exactOptional(),
})

export const UpdateStepSchema = z
  .strictObject({
    id: id.exactOptional(),
    type: z.literal('update'),
    set: z.record(z.string(), z.unknown()).exactOptional(),
    unset: z.array(z.string().min(1)).exactOptional(),
    points: z.number().exactOptional(),
    tags: z
      .strictObject({ add: z.array(z.string()).exactOptional(), remove: z.array(z.string()).exactOptional() })
      .exactOptional(),
    badge: z.string().min(1).exactOptional(),
  })
  .refine((u) => u.set || u.unset || u.points !== undefined || u.tags || u.badge, {
    error: 'an update needs set, unset, points, tags or badge',
  })

export const ExitStepSchema = z.strictObject({
  id: id.exactOptional(),
  type: z.literal('exit'),
  reason: z.string().exactOptional(),
})

export const StepSchema: z.ZodType<Step> = z
  .lazy(() =>
    z.discriminatedUnion('type', [
      DelayStepSchema,
      WaitStepSchema,
      BranchStepSchema,
      SplitStepSchema,
      SendStepSchema,
      UpdateStepSchema,
      ExitStepSchema,
    ]),
  )
  .meta({ id: 'Step', description: 'One step: delay, wait, branch, split, send, update or exit' })

export const JourneySchema: z.ZodType<Journey> = z
  .strictObject({
    id,
    name: z.string().min(1),
    description: z.string().exactOptional(),
    timezone: TimezoneSchema.exactOptional(),
    trigger: TriggerSchema,
    entry: EntryRuleSchema,
    goal: GoalSchema.exactOptional(),
    exit: z.array(CriterionSchema).exactOptional(),
    steps: z.array(StepSchema).min(1, { error: 'a journey needs at least one step' }),
  })
  .meta({ id: 'Journey', title: 'Nudge journey', description: 'A journey: a trigger, entry rules and steps' })
