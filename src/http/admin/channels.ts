// Channel settings of the workspace (GET/PUT /api/v1/channels/{name}), checked by the
// channel's own schema and never echoed back with their secrets; and the local mailbox,
// where email goes when no SMTP server is configured.
import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import { listMailbox, readMailboxMessage } from '../../channels/mailbox.ts'
import { redactConfig, unmaskConfig } from '../../channels/redact.ts'
import { channelModules } from '../../channels/registry.ts'
import { CHANNEL_NAMES, type ChannelName } from '../../channels/types.ts'
import { NudgeError } from '../../domain/errors.ts'
import { getChannelConfig, putChannelConfig } from '../../store/channel-configs.ts'
import { route } from '../openapi.ts'
import { type AdminDeps, workspaceOf } from './context.ts'

const Name = z.object({ name: z.enum(CHANNEL_NAMES).describe('email, webhook, sms, push or in_app') })

const ChannelSchema = z
  .object({
    name: z.enum(CHANNEL_NAMES),
    source: z
      .enum(['workspace', 'default', 'none'])
      .describe(
        'workspace: saved with PUT; default: the server settings (NUDGE_SMTP_URL or the local mailbox for email); none: not configured',
      ),
    config: z.record(z.string(), z.unknown()).nullable().describe('with every secret replaced by ********'),
    updatedAt: z.iso.datetime().nullable(),
  })
  .meta({ id: 'Channel' })

const MailboxEntrySchema = z
  .object({
    id: z.string(),
    messageId: z.string(),
    nudgeMessageId: z.string(),
    from: z.string(),
    to: z.string(),
    subject: z.string(),
    category: z.string(),
    profileId: z.string(),
    storedAt: z.string(),
  })
  .meta({ id: 'MailboxEntry' })

function noMailbox(): NudgeError {
  return new NudgeError('NUDGE_ERR_NOT_FOUND', 'This server has no local mailbox (its workers are elsewhere)')
}

export function channelRoutes(app: FastifyInstance, deps: AdminDeps): void {
  async function describe(workspaceId: string, name: ChannelName): Promise<z.input<typeof ChannelSchema>> {
    const stored = await getChannelConfig(deps.db, workspaceId, name)
    if (stored) {
      return {
        name,
        source: 'workspace',
        config: redactConfig(stored.config) as Record<string, unknown>,
        updatedAt: stored.updatedAt.toISOString(),
      }
    }
    const fallback = deps.channelDefaults?.[name]
    return {
      name,
      source: fallback === undefined ? 'none' : 'default',
      config: fallback === undefined ? null : (redactConfig(fallback) as Record<string, unknown>),
      updatedAt: null,
    }
  }

  route(
    app,
    {
      method: 'GET',
      path: '/api/v1/channels',
      operationId: 'listChannels',
      summary: 'Every channel and where its settings come from',
      tags: ['channels'],
      security: 'adminKey',
      response: z.object({ items: z.array(ChannelSchema) }),
    },
    async ({ req }) => ({
      items: await Promise.all(CHANNEL_NAMES.map((n) => describe(workspaceOf(req), n))),
    }),
  )

  route(
    app,
    {
      method: 'GET',
      path: '/api/v1/channels/{name}',
      operationId: 'getChannel',
      summary: "A channel's settings, secrets masked",
      tags: ['channels'],
      security: 'adminKey',
      params: Name,
      response: ChannelSchema,
      errors: [400],
    },
    async ({ params, req }) => describe(workspaceOf(req), params.name),
  )

  route(
    app,
    {
      method: 'PUT',
      path: '/api/v1/channels/{name}',
      operationId: 'putChannel',
      summary: "Saves a channel's settings for this workspace",
      description:
        'The body is the channel config (see docs/channels.md). A secret sent back as ******** keeps the saved one. Messages sent from now on use it.',
      tags: ['channels'],
      security: 'adminKey',
      params: Name,
      body: z.record(z.string(), z.unknown()),
      response: ChannelSchema,
      errors: [400],
    },
    async ({ params, body, req }) => {
      const workspaceId = workspaceOf(req)
      const stored = await getChannelConfig(deps.db, workspaceId, params.name)
      const raw = unmaskConfig(body, stored?.config)
      const module = channelModules[params.name]
      const checked = module?.validateConfig(raw)
      if (!checked?.ok) {
        const issues = (checked?.issues ?? []).map((i) => ({
          path: i.path ? `body.${i.path}` : 'body',
          message: i.message,
        }))
        throw new NudgeError(
          'NUDGE_ERR_VALIDATION',
          `Invalid ${params.name} settings: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
          issues,
        )
      }
      await putChannelConfig(
        deps.db,
        workspaceId,
        params.name,
        checked.config as Record<string, unknown>,
        new Date(),
      )
      return describe(workspaceId, params.name)
    },
  )

  route(
    app,
    {
      method: 'GET',
      path: '/api/v1/mailbox',
      operationId: 'listMailbox',
      summary: 'Mail kept in the local mailbox (email without an SMTP server), newest first',
      tags: ['channels'],
      security: 'adminKey',
      query: z.object({
        profileId: z.uuid().optional(),
        limit: z.coerce.number().int().min(1).max(500).default(100),
      }),
      response: z.object({ items: z.array(MailboxEntrySchema) }),
      errors: [400, 404],
    },
    async ({ query, req }) => {
      if (!deps.dataDir) throw noMailbox()
      const items = await listMailbox(deps.dataDir, workspaceOf(req), {
        limit: query.limit,
        ...(query.profileId ? { profileId: query.profileId } : {}),
      })
      return { items }
    },
  )

  route(
    app,
    {
      method: 'GET',
      path: '/api/v1/mailbox/{id}',
      operationId: 'getMailboxMessage',
      summary: 'One mail of the local mailbox, as the RFC 5322 text a mail client opens',
      tags: ['channels'],
      security: 'adminKey',
      params: z.object({ id: z.string().min(1).max(64) }),
      response: z.object({ id: z.string(), eml: z.string() }),
      errors: [404],
    },
    async ({ params, req }) => {
      if (!deps.dataDir) throw noMailbox()
      const eml = await readMailboxMessage(deps.dataDir, workspaceOf(req), params.id)
      if (eml === undefined)
        throw new NudgeError('NUDGE_ERR_NOT_FOUND', `No mail "${params.id}" in the local mailbox`)
      return { id: params.id, eml }
    },
  )
}
