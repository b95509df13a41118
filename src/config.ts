// Configuration from the environment, validated once at start with a message for
// every wrong value.
import { z } from 'zod'
import { NudgeError } from './domain/errors.ts'

const schema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must start with postgres:// or postgresql://')
    .optional(),
  NUDGE_DATA_DIR: z.string().min(1).default('./.nudge'),
  NUDGE_WRITE_KEY: z.string().min(8, 'must be at least 8 characters').optional(),
  NUDGE_ADMIN_KEY: z.string().min(8, 'must be at least 8 characters').optional(),
  NUDGE_ROLE: z.enum(['api', 'worker', 'all']).default('all'),
  NUDGE_PUBLIC_URL: z.url('must be a URL such as https://nudge.example.com').optional(),
  NUDGE_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  NUDGE_DB_POOL: z.coerce.number().int().min(1).max(200).default(10),
  /** Port of the embedded inbound SMTP listener for replies; off when unset. */
  NUDGE_INBOUND_SMTP_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  /** Domain of reply addresses (reply+<handle>@domain): its MX must lead to the listener or a provider. */
  NUDGE_INBOUND_DOMAIN: z
    .string()
    .regex(/^[a-z0-9.-]+\.[a-z]{2,}$|^localhost$/i, 'must be a domain such as replies.example.com')
    .optional(),
  /** Outgoing mail server; without it mail goes to the local mailbox in NUDGE_DATA_DIR/mailbox. */
  NUDGE_SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\/[^/]+/, 'must look like smtp://user:pass@host:587 or smtps://user:pass@host:465')
    .optional(),
  /** Default From of email, e.g. "Photo Club <hello@photoclub.example>". */
  NUDGE_EMAIL_FROM: z.string().min(3).optional(),
})

export type Config = z.infer<typeof schema>

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const clean = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''))
  const parsed = schema.safeParse(clean)
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }))
    throw new NudgeError(
      'NUDGE_ERR_CONFIG',
      `Invalid configuration:\n${issues.map((i) => `  ${i.path}: ${i.message}`).join('\n')}`,
      issues,
    )
  }
  return parsed.data
}
