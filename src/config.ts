// Configuration from the environment and an optional config file (nudge.config.yaml or
// .json), validated once at start with a message for every wrong value. A variable set in
// the environment wins over the same setting in the file.
import { z } from 'zod'
import { type ConfigFile, readConfigFile } from './config-file.ts'
import { NudgeError } from './domain/errors.ts'
import { settings } from './settings.ts'

const schema = z.object({
  PORT: settings.PORT.default(3000),
  HOST: settings.HOST.default('0.0.0.0'),
  DATABASE_URL: settings.DATABASE_URL.optional(),
  NUDGE_DATA_DIR: settings.NUDGE_DATA_DIR.default('./.nudge'),
  NUDGE_WRITE_KEY: settings.NUDGE_WRITE_KEY.optional(),
  NUDGE_ADMIN_KEY: settings.NUDGE_ADMIN_KEY.optional(),
  NUDGE_ROLE: settings.NUDGE_ROLE.default('all'),
  NUDGE_PUBLIC_URL: settings.NUDGE_PUBLIC_URL.optional(),
  NUDGE_LOG_LEVEL: settings.NUDGE_LOG_LEVEL.default('info'),
  NUDGE_DB_POOL: settings.NUDGE_DB_POOL.default(10),
  NUDGE_INBOUND_SMTP_PORT: settings.NUDGE_INBOUND_SMTP_PORT.optional(),
  NUDGE_INBOUND_DOMAIN: settings.NUDGE_INBOUND_DOMAIN.optional(),
  NUDGE_SMTP_URL: settings.NUDGE_SMTP_URL.optional(),
  NUDGE_EMAIL_FROM: settings.NUDGE_EMAIL_FROM.optional(),
})

export type Config = z.infer<typeof schema> & {
  /** The config file read, when there was one; its per-workspace channel settings. */
  readonly file?: ConfigFile
}

export interface LoadOptions {
  /** `--config <path>`; else NUDGE_CONFIG; else nudge.config.{yaml,yml,json} in `cwd`. */
  readonly configPath?: string
  /** Where to look for a config file; the process's working directory by default. */
  readonly cwd?: string
}

export function loadConfig(
  env: Record<string, string | undefined> = process.env,
  opts: LoadOptions = {},
): Config {
  const clean = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''))
  const file = readConfigFile({
    env: clean,
    cwd: opts.cwd ?? process.cwd(),
    ...(opts.configPath !== undefined ? { explicit: opts.configPath } : {}),
    ...(clean.NUDGE_CONFIG ? { fromEnv: clean.NUDGE_CONFIG } : {}),
  })
  // The environment wins: the file only fills what the environment leaves unset.
  const parsed = schema.safeParse({ ...file?.settings, ...clean })
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }))
    throw new NudgeError(
      'NUDGE_ERR_CONFIG',
      `Invalid configuration:\n${issues.map((i) => `  ${i.path}: ${i.message}`).join('\n')}`,
      issues,
    )
  }
  return file ? { ...parsed.data, file } : parsed.data
}
