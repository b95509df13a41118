// Every server setting once: its check (shared by the environment and the config file),
// its environment variable, and where it goes in nudge.config.yaml.
import { z } from 'zod'

/** One definition per setting, shared by the environment and the config file. */
export const settings = {
  PORT: z.coerce.number().int().min(0).max(65535),
  HOST: z.string().min(1),
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must start with postgres:// or postgresql://'),
  NUDGE_DATA_DIR: z.string().min(1),
  NUDGE_WRITE_KEY: z.string().min(8, 'must be at least 8 characters'),
  NUDGE_ADMIN_KEY: z.string().min(8, 'must be at least 8 characters'),
  NUDGE_ROLE: z.enum(['api', 'worker', 'all']),
  NUDGE_PUBLIC_URL: z.url('must be a URL such as https://nudge.example.com'),
  NUDGE_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
  NUDGE_DB_POOL: z.coerce.number().int().min(1).max(200),
  /** Port of the embedded inbound SMTP listener for replies and delivery reports; off when unset. */
  NUDGE_INBOUND_SMTP_PORT: z.coerce.number().int().min(0).max(65535),
  /** Domain of reply and bounce addresses: its MX must lead to the listener or a provider. */
  NUDGE_INBOUND_DOMAIN: z
    .string()
    .regex(/^[a-z0-9.-]+\.[a-z]{2,}$|^localhost$/i, 'must be a domain such as replies.example.com'),
  /** Outgoing mail server; without it mail goes to the local mailbox in NUDGE_DATA_DIR/mailbox. */
  NUDGE_SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\/[^/]+/, 'must look like smtp://user:pass@host:587 or smtps://user:pass@host:465'),
  /** Default From of email, e.g. "Photo Club <hello@photoclub.example>". */
  NUDGE_EMAIL_FROM: z.string().min(3),
} as const

export type SettingName = keyof typeof settings

/** Where each setting lives in the config file. */
export const FILE_PATHS: Readonly<Record<SettingName, readonly [string, string] | readonly [string]>> = {
  PORT: ['server', 'port'],
  HOST: ['server', 'host'],
  NUDGE_ROLE: ['server', 'role'],
  NUDGE_PUBLIC_URL: ['server', 'publicUrl'],
  NUDGE_LOG_LEVEL: ['server', 'logLevel'],
  DATABASE_URL: ['database', 'url'],
  NUDGE_DB_POOL: ['database', 'pool'],
  NUDGE_DATA_DIR: ['dataDir'],
  NUDGE_WRITE_KEY: ['keys', 'write'],
  NUDGE_ADMIN_KEY: ['keys', 'admin'],
  NUDGE_INBOUND_SMTP_PORT: ['inbound', 'smtpPort'],
  NUDGE_INBOUND_DOMAIN: ['inbound', 'domain'],
  NUDGE_SMTP_URL: ['email', 'smtpUrl'],
  NUDGE_EMAIL_FROM: ['email', 'from'],
}
