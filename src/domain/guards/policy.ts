// A workspace's guard policy: caps, quiet hours, dedupe window, rate limits. One zod
// schema validates it (admin API, config file) and its defaults are the safe start every
// workspace gets: a marketing cap, a daily cap and quiet hours, all on.
import { z } from 'zod'
import { NudgeError } from '../errors.ts'
import { DURATION_HINT, windowMs } from './duration.ts'
import { CHANNELS } from './types.ts'
import { isValidTimeZone } from './zoned-time.ts'

const channel = z.enum(CHANNELS, { error: `must be one of ${CHANNELS.join(', ')}` })

const duration = z
  .string({ error: DURATION_HINT })
  .refine((text) => windowMs(text) !== null, { error: DURATION_HINT })

const timeOfDay = z
  .string({ error: 'must be a time of day "HH:MM" (24-hour clock), such as "21:00"' })
  .regex(/^([01]\d|2[0-3]):[0-5]\d$/, {
    error: 'must be a time of day "HH:MM" (24-hour clock), such as "21:00"',
  })

const timeZone = z
  .string()
  .refine(isValidTimeZone, { error: 'must be an IANA timezone such as "Europe/Paris" or "UTC"' })

/**
 * At most `max` messages per rolling `per`, counted per profile across all journeys.
 * scope: 'all' counts every non-transactional message, otherwise only that category.
 * channel: count (and limit) only that channel. mode: skip drops the message; wait
 * postpones it until the window has room again.
 */
export const CapRule = z.strictObject({
  name: z.string().min(1).optional(),
  max: z
    .int({ error: 'must be a whole number' })
    .min(1, { error: 'must be at least 1 (use caps: [] for no cap)' }),
  per: duration,
  scope: z.string().min(1).default('all'),
  channel: channel.optional(),
  mode: z.enum(['skip', 'wait'], { error: 'must be skip or wait' }).default('skip'),
})
export type CapRule = z.output<typeof CapRule>

/** Messages per second for one channel, shared by every worker; burst = how many may go at once. */
export const ChannelRate = z.strictObject({
  perSecond: z.number().positive({ error: 'must be more than 0' }).max(1_000_000),
  burst: z.int().min(1).default(1),
})
export type ChannelRate = z.output<typeof ChannelRate>

export const QUIET_CHANNELS_DEFAULT = ['email', 'sms', 'push', 'webhook'] as const

export const QuietHours = z
  .strictObject({
    enabled: z.boolean().default(true),
    /** Local time in the member's timezone; a window may span midnight (21:00 → 08:00). */
    start: timeOfDay.default('21:00'),
    end: timeOfDay.default('08:00'),
    mode: z.enum(['postpone', 'drop'], { error: 'must be postpone or drop' }).default('postpone'),
    /** In-app messages wait in an inbox and disturb nobody, so they are not listed by default. */
    channels: z.array(channel).default([...QUIET_CHANNELS_DEFAULT]),
  })
  .refine((q) => q.start !== q.end, {
    error: 'start and end must differ (use enabled: false to turn quiet hours off)',
    path: ['end'],
  })
export type QuietHours = z.output<typeof QuietHours>

const rate = (perSecond: number, burst: number) => ChannelRate.nullable().default({ perSecond, burst })

export const GuardPolicy = z.strictObject({
  /** Used for members without a (valid) timezone. */
  timezone: timeZone.default('UTC'),
  subscriptions: z
    .strictObject({
      /** Topics nobody receives until they opt in (e.g. a newsletter under GDPR). */
      requireOptIn: z.array(z.string().min(1)).default([]),
    })
    .prefault({}),
  dedupe: z.strictObject({ window: duration.default('24h') }).prefault({}),
  caps: z.array(CapRule).default([
    { name: 'marketing per week', max: 3, per: '7d', scope: 'marketing', mode: 'skip' },
    { name: 'per day', max: 5, per: '1d', scope: 'all', mode: 'wait' },
  ]),
  quietHours: QuietHours.prefault({}),
  /** null = no limit for that channel. */
  rateLimits: z
    .strictObject({
      email: rate(50, 50),
      webhook: rate(50, 50),
      sms: rate(10, 10),
      push: rate(100, 100),
      in_app: rate(500, 500),
    })
    .prefault({}),
})
export type GuardPolicy = z.output<typeof GuardPolicy>
/** What a person writes: every field optional. */
export type GuardPolicyInput = z.input<typeof GuardPolicy>

export const defaultGuardPolicy: GuardPolicy = GuardPolicy.parse({})

export type PolicyResult =
  | { readonly ok: true; readonly policy: GuardPolicy }
  | { readonly ok: false; readonly issues: readonly { readonly path: string; readonly message: string }[] }

/** Validates a policy (from YAML/JSON or the admin API), filling in the defaults. */
export function safeParseGuardPolicy(input: unknown): PolicyResult {
  const parsed = GuardPolicy.safeParse(input ?? {})
  if (parsed.success) return { ok: true, policy: parsed.data }
  return {
    ok: false,
    issues: parsed.error.issues.map((i) => ({
      path: i.path.length ? i.path.map(String).join('.') : '(policy)',
      message:
        i.code === 'unrecognized_keys'
          ? `unknown field${i.keys.length > 1 ? 's' : ''} ${i.keys.join(', ')}`
          : i.message,
    })),
  }
}

/** Like safeParseGuardPolicy, but throws NUDGE_ERR_VALIDATION listing every problem. */
export function parseGuardPolicy(input: unknown): GuardPolicy {
  const result = safeParseGuardPolicy(input)
  if (result.ok) return result.policy
  const lines = result.issues.map((i) => `  ${i.path}: ${i.message}`).join('\n')
  throw new NudgeError('NUDGE_ERR_VALIDATION', `Invalid guard policy:\n${lines}`, result.issues)
}

/** "max 3 marketing per 7d (email)": how a rule is named in traces when it has no name. */
export function capRuleLabel(rule: CapRule): string {
  const what = messagesOf(rule.scope, rule.max)
  const where = rule.channel ? ` on ${rule.channel}` : ''
  return `max ${rule.max} ${what}${where} per ${rule.per}`
}

/** "1 message", "3 marketing messages": the noun a cap counts. */
export function messagesOf(scope: string, count: number): string {
  const noun = count === 1 ? 'message' : 'messages'
  return scope === 'all' ? noun : `${scope} ${noun}`
}
