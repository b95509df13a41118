// Trying a template before a journey sends it: a preview rendered for a real profile and a
// sample event exactly as the dispatcher would, every problem listed; and a test send handed
// to the workspace's channel at once, marked "[Test] ", logged in category `test` (no journey,
// no tracking, never counted by frequency caps).
import { randomUUID } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import { CHANNEL_NAMES, type Recipient } from '../../channels/types.ts'
import { systemClock } from '../../domain/clock.ts'
import { NudgeError } from '../../domain/errors.ts'
import { TEST_MESSAGE_PREFIX } from '../../domain/messages/test-send.ts'
import { TEMPLATE_NAME, templateSchema } from '../../domain/templates/parse.ts'
import type { CompiledTemplate } from '../../domain/templates/render.ts'
import type { TemplateDefinition, TemplateError } from '../../domain/templates/types.ts'
import { makeTemplateCache, recipientOf } from '../../runtime/dispatch/compose.ts'
import {
  compileEachPart,
  markAsTest,
  type PreviewInput,
  previewMessage,
  sampleProfile,
} from '../../runtime/dispatch/preview.ts'
import { sendOnce } from '../../runtime/dispatch/send-once.ts'
import { loadWorkspaces } from '../../runtime/dispatch/workspace.ts'
import type { Queryable } from '../../store/db.ts'
import { inAppInbox } from '../../store/in-app.ts'
import { getJourney } from '../../store/journeys.ts'
import { logTestSend } from '../../store/messages.ts'
import { resolveProfileId } from '../../store/profiles/read.ts'
import { lockRecipient, type RecipientProfile } from '../../store/profiles/recipient.ts'
import { pushSubscriptionsOf } from '../../store/push-subscriptions.ts'
import { route } from '../openapi.ts'
import { type AdminDeps, workspaceOf } from './context.ts'

const NameParams = z.object({
  name: z.string().regex(TEMPLATE_NAME, 'lower-case letters, digits and dashes, e.g. welcome-1'),
})

const SampleEvent = z.object({
  name: z.string().min(1),
  properties: z.record(z.string(), z.unknown()).optional(),
})

const Context = {
  profile: z
    .string()
    .min(1)
    .optional()
    .describe('userId, anonymousId or profile id; absent: a profile with no traits'),
  event: SampleEvent.optional().describe('the event that triggered the journey, as the template sees it'),
  journey: z.string().min(1).optional().describe('id of the journey the message is sent from'),
}

const PreviewBody = z.object(Context)
const InlinePreviewBody = z.object({
  template: z
    .record(z.string(), z.unknown())
    .describe('a template file as JSON: channel, subject, text, html, url, …'),
  ...Context,
})
const SendTestBody = z.object({
  to: z
    .string()
    .min(1)
    .describe('an email address, a phone number (+E.164) or a profile (userId, anonymousId, id)'),
  channel: z.enum(CHANNEL_NAMES).optional().describe("the template's channel; any other is refused"),
  ...Context,
})

const Problem = z
  .object({
    part: z.string().optional(),
    variable: z.string().optional().describe('e.g. profile.traits.first_name'),
    line: z.number().int().optional(),
    message: z.string(),
  })
  .meta({ id: 'TemplateProblem' })

const Parts = z.object({
  subject: z.string().optional(),
  text: z.string().optional().describe('generated from html when the template has no text part'),
  html: z.string().optional(),
  url: z.string().optional(),
})

const PreviewSchema = z
  .object({
    template: z.string(),
    channel: z.enum(CHANNEL_NAMES),
    profile: z.object({ id: z.string(), userId: z.string().nullable() }).nullable(),
    parts: Parts,
    problems: z.array(Problem).describe('empty when the message would go out as shown'),
  })
  .meta({ id: 'TemplatePreview' })

const SendTestSchema = z
  .object({
    messageId: z.string().nullable().describe('its entry in the message log; null when nothing was sent'),
    channel: z.enum(CHANNEL_NAMES),
    to: z.string(),
    result: z.object({
      ok: z.boolean(),
      kind: z.enum(['retryable', 'rejected', 'misconfigured']).optional(),
      reason: z.string().optional(),
      providerId: z.string().optional(),
    }),
    problems: z.array(Problem),
  })
  .meta({ id: 'TestSend' })

const problemJson = (e: TemplateError): z.input<typeof Problem> => ({
  message: e.message,
  ...(e.part ? { part: e.part } : {}),
  ...(e.variable ? { variable: e.variable } : {}),
  ...(e.line ? { line: e.line } : {}),
})

const EMAIL = /^[^\s@]+@[^\s@]+$/
const PHONE = /^\+[1-9]\d{6,14}$/

export function templateTestRoutes(app: FastifyInstance, deps: AdminDeps): void {
  const tags = ['templates']
  const clock = deps.clock ?? systemClock
  const baseUrl = deps.publicUrl ?? 'http://localhost:3000'
  const compile = makeTemplateCache()

  async function profileOf(db: Queryable, ws: string, id: string, field: string): Promise<RecipientProfile> {
    const profileId = await resolveProfileId(db, ws, id)
    const profile = profileId ? await lockRecipient(db, ws, profileId) : undefined
    if (!profile)
      throw new NudgeError('NUDGE_ERR_NOT_FOUND', `No profile has the userId, anonymousId or id "${id}"`, [
        { path: field, message: 'unknown profile', hint: 'GET /api/v1/profiles lists them' },
      ])
    return profile
  }

  /** The workspace, the profile and the journey a preview names; 404 for an unknown one. */
  async function loadContext(
    ws: string,
    body: z.output<typeof PreviewBody>,
    templates: string[],
    profile?: RecipientProfile,
  ) {
    const w = (await loadWorkspaces(deps.db, new Map([[ws, new Set(templates)]]))).get(ws)
    if (!w) throw new NudgeError('NUDGE_ERR_NOT_FOUND', `The workspace "${ws}" does not exist`)
    const who =
      profile ?? (body.profile ? await profileOf(deps.db, ws, body.profile, 'body.profile') : undefined)
    let journey: { id: string; name: string } | undefined
    if (body.journey) {
      const j = await getJourney(deps.db, ws, body.journey)
      if (!j)
        throw new NudgeError('NUDGE_ERR_NOT_FOUND', `No journey has the id "${body.journey}"`, [
          { path: 'body.journey', message: 'unknown journey', hint: 'GET /api/v1/journeys lists them' },
        ])
      journey = { id: j.journeyId, name: j.name }
    }
    return { w, who, journey }
  }

  /** Everything a preview of a stored template needs, loaded; 404 for an unknown template. */
  async function load(
    ws: string,
    name: string,
    body: z.output<typeof PreviewBody>,
    profile?: RecipientProfile,
  ) {
    const { w, who, journey } = await loadContext(ws, body, [name], profile)
    const stored = w.templates.get(name)
    if (!stored)
      throw new NudgeError(
        'NUDGE_ERR_NOT_FOUND',
        `No template is named "${name}"; create it with PUT /api/v1/templates/${name} or "nudge apply"`,
      )
    const compiled = compile(ws, name, stored)
    if (!compiled.ok)
      throw new NudgeError('NUDGE_ERR_TEMPLATE_INVALID', undefined, [
        { path: 'template', message: compiled.reason },
      ])
    return { w, compiled: compiled.template, who, journey }
  }

  function previewAnswer(
    compiled: CompiledTemplate,
    who: RecipientProfile | undefined,
    input: Omit<PreviewInput, 'messageId' | 'template' | 'profile' | 'to'>,
    problems: readonly TemplateError[] = [],
  ): z.input<typeof PreviewSchema> {
    const profile = who ?? sampleProfile()
    const preview = previewMessage({
      ...input,
      messageId: `preview:${randomUUID()}`,
      template: compiled,
      profile,
      to: recipientOf(profile, undefined),
    })
    return {
      template: compiled.definition.name,
      channel: compiled.definition.channel,
      profile: who ? { id: who.profileId, userId: who.userId } : null,
      parts: preview.ok ? { ...preview.message.content } : preview.parts,
      problems: [...problems, ...preview.problems].map(problemJson),
    }
  }

  route(
    app,
    {
      method: 'POST',
      path: '/api/v1/templates/{name}/preview',
      operationId: 'previewTemplate',
      summary: 'Render a template for a profile and a sample event, as it would be sent',
      description:
        'Every part is rendered with the context a send has (profile traits, event, journey, links, tracking). ' +
        'A missing variable or another rendering problem is listed in `problems` (still 200) with its part; ' +
        'the parts that rendered are returned.',
      tags,
      security: 'adminKey',
      params: NameParams,
      body: PreviewBody,
      response: PreviewSchema,
      errors: [400, 404],
    },
    async ({ params, body, req }) => {
      const { w, compiled, who, journey } = await load(workspaceOf(req), params.name, body)
      return previewAnswer(compiled, who, {
        ...(body.event ? { event: body.event } : {}),
        ...(journey ? { journey } : {}),
        workspace: { id: w.id, name: w.name },
        links: { baseUrl, secret: w.secret },
        now: clock.now(),
      })
    },
  )

  route(
    app,
    {
      method: 'POST',
      path: '/api/v1/templates/preview',
      operationId: 'previewTemplateDocument',
      summary: 'Render a template document that is not stored, for a profile and a sample event',
      description:
        'As the preview of a stored template, for the template in `template` (a template file as JSON; ' +
        '`name` defaults to "preview"). A part with a Liquid syntax error or an unknown filter is listed in ' +
        '`problems` and the other parts still render; a document missing fields is 400 with every issue.',
      tags,
      security: 'adminKey',
      body: InlinePreviewBody,
      response: PreviewSchema,
      errors: [400, 404],
    },
    async ({ body, req }) => {
      const parsed = templateSchema.safeParse({ name: 'preview', ...body.template })
      if (!parsed.success)
        throw new NudgeError(
          'NUDGE_ERR_TEMPLATE_INVALID',
          undefined,
          parsed.error.issues.map((i) => ({
            path: ['body', 'template', ...i.path.map(String)].join('.'),
            message: i.message,
          })),
        )
      const { template, problems } = compileEachPart(parsed.data as TemplateDefinition)
      const { w, who, journey } = await loadContext(workspaceOf(req), body, [])
      return previewAnswer(
        template,
        who,
        {
          ...(body.event ? { event: body.event } : {}),
          ...(journey ? { journey } : {}),
          workspace: { id: w.id, name: w.name },
          links: { baseUrl, secret: w.secret },
          now: clock.now(),
        },
        problems,
      )
    },
  )

  route(
    app,
    {
      method: 'POST',
      path: '/api/v1/templates/{name}/send-test',
      operationId: 'sendTestMessage',
      summary: 'Send a template once, now, to one address, marked as a test',
      description:
        'Rendered as a send would be, subject prefixed "[Test] ", handed to the channel at once (no guards, ' +
        'no tracking, no journey) and logged in the message log with category `test`. `result` is the ' +
        "channel's answer; when the template does not render, nothing is sent and `problems` says why.",
      tags,
      security: 'adminKey',
      params: NameParams,
      body: SendTestBody,
      response: SendTestSchema,
      errors: [400, 404],
    },
    async ({ params, body, req }) => {
      const ws = workspaceOf(req)
      const address = EMAIL.test(body.to) ? 'email' : PHONE.test(body.to) ? 'phone' : 'profile'
      const target = address === 'profile' ? await profileOf(deps.db, ws, body.to, 'body.to') : undefined
      const { w, compiled, who, journey } = await load(ws, params.name, body, target)
      const channel = compiled.definition.channel
      if (body.channel && body.channel !== channel)
        throw new NudgeError('NUDGE_ERR_VALIDATION', `The template "${params.name}" is for ${channel}`, [
          { path: 'body.channel', message: `must be ${channel}, the template's channel, or left out` },
        ])
      const profile = who ?? sampleProfile()
      const push =
        channel === 'push' && who ? (await pushSubscriptionsOf(deps.db, ws, who.profileId))[0] : undefined
      const base = recipientOf(profile, push)
      const to: Recipient = address === 'profile' ? base : { ...base, [address]: body.to }
      const messageId = `${TEST_MESSAGE_PREFIX}${randomUUID()}`
      const now = clock.now()
      const input: PreviewInput = {
        messageId,
        template: compiled,
        profile,
        to,
        ...(body.event ? { event: body.event } : {}),
        ...(journey ? { journey } : {}),
        workspace: { id: w.id, name: w.name },
        // A test is not a member's open or click: no pixel, no tracked links.
        links: { baseUrl, secret: w.secret, trackOpens: false, trackClicks: false },
        now,
      }
      const preview = previewMessage(input)
      const answer = { channel, to: body.to }
      if (!preview.ok)
        return {
          ...answer,
          messageId: null,
          result: { ok: false, kind: 'rejected' as const, reason: 'not sent: the template does not render' },
          problems: preview.problems.map(problemJson),
        }
      const message = { ...preview.message, content: markAsTest(preview.message.content) }
      const result = await sendOnce(
        {
          channel,
          config: w.channelConfigs.get(channel) ?? deps.channelDefaults?.[channel],
          clock,
          ...(deps.dataDir ? { dataDir: deps.dataDir } : {}),
          inAppInbox: inAppInbox(deps.db),
        },
        message,
      )
      await logTestSend(deps.db, {
        workspaceId: ws,
        profileId: profile.profileId,
        messageId,
        channel,
        template: params.name,
        at: clock.now(),
        ok: result.ok,
        reason: result.ok ? `test handed to ${channel}` : `test not sent: ${result.reason}`,
        ...(result.ok ? { providerId: result.providerId } : { error: result.reason }),
        payload: { to: body.to, ...(body.event ? { event: body.event } : {}) },
      })
      return {
        ...answer,
        messageId,
        result: result.ok
          ? { ok: true, providerId: result.providerId }
          : { ok: false, kind: result.kind, reason: result.reason },
        problems: [],
      }
    },
  )
}
