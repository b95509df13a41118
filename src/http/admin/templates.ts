// Templates of the workspace, by name: the same documents as `templates/<name>.yaml`, checked
// the same way (fields, the parts each channel needs, Liquid syntax) before they are stored.
import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import { NudgeError } from '../../domain/errors.ts'
import { parseTemplate, TEMPLATE_NAME } from '../../domain/templates/parse.ts'
import { TEMPLATE_CHANNELS } from '../../domain/templates/types.ts'
import { getTemplate, listTemplates, putTemplate, type TemplateRecord } from '../../store/templates.ts'
import { route } from '../openapi.ts'
import { type AdminDeps, workspaceOf } from './context.ts'

const Definition = z.record(z.string(), z.unknown())

const TemplateSchema = z
  .object({
    name: z.string(),
    channel: z.enum(TEMPLATE_CHANNELS),
    checksum: z.string(),
    updatedAt: z.iso.datetime(),
    definition: Definition.describe(
      'name, channel, category, topic, subject, text, html, url, from, replyTo',
    ),
  })
  .meta({ id: 'Template' })

const NameParams = z.object({
  name: z.string().regex(TEMPLATE_NAME, 'lower-case letters, digits and dashes, e.g. welcome-1'),
})

const templateJson = (t: TemplateRecord): z.input<typeof TemplateSchema> => ({
  name: t.name,
  channel: t.definition.channel,
  checksum: t.checksum,
  updatedAt: t.updatedAt.toISOString(),
  definition: { ...t.definition },
})

export function templateRoutes(app: FastifyInstance, deps: AdminDeps): void {
  const tags = ['templates']
  route(
    app,
    {
      method: 'GET',
      path: '/api/v1/templates',
      operationId: 'listTemplates',
      summary: 'Templates of the workspace, by name',
      tags,
      security: 'adminKey',
      response: z.object({ items: z.array(TemplateSchema) }),
    },
    async ({ req }) => ({ items: (await listTemplates(deps.db, workspaceOf(req))).map(templateJson) }),
  )

  route(
    app,
    {
      method: 'GET',
      path: '/api/v1/templates/{name}',
      operationId: 'getTemplate',
      summary: 'One template',
      tags,
      security: 'adminKey',
      params: NameParams,
      response: TemplateSchema,
      errors: [404],
    },
    async ({ params, req }) => {
      const t = await getTemplate(deps.db, workspaceOf(req), params.name)
      if (!t) throw new NudgeError('NUDGE_ERR_NOT_FOUND', `No template is named "${params.name}"`)
      return templateJson(t)
    },
  )

  route(
    app,
    {
      method: 'PUT',
      path: '/api/v1/templates/{name}',
      operationId: 'putTemplate',
      summary: 'Create or replace a template; the same content changes nothing',
      description:
        'The body is the template file as JSON (`name` may be left out; when given it must match the path). ' +
        'On any problem: 400 NUDGE_ERR_TEMPLATE_INVALID with every issue, and nothing stored.',
      tags,
      security: 'adminKey',
      params: NameParams,
      body: Definition,
      response: z.object({ outcome: z.enum(['created', 'updated', 'unchanged']), template: TemplateSchema }),
    },
    async ({ params, body, req }) => {
      if (body.name !== undefined && body.name !== params.name)
        throw new NudgeError('NUDGE_ERR_TEMPLATE_INVALID', undefined, [
          { path: 'body.name', message: `must match the name in the path, "${params.name}"` },
        ])
      const parsed = parseTemplate({ ...body, name: params.name })
      if (!parsed.ok)
        throw new NudgeError(
          'NUDGE_ERR_TEMPLATE_INVALID',
          undefined,
          parsed.issues.map((i) => ({ ...i, path: i.path ? `body.${i.path}` : 'body' })),
        )
      const { outcome, template } = await putTemplate(deps.db, workspaceOf(req), parsed.template)
      return { outcome, template: templateJson(template) }
    },
  )
}
