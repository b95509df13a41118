// Trying a template before a journey sends it: a preview rendered for a real profile and a
// sample event exactly as the dispatcher would, every problem listed; and a test send handed
// to the workspace's channel at once, marked "[Test] ", logged in category `test` (no journey,
// no tracking, never counted by frequency caps).
import { randomUUID } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import { openChannel } from '../../channels/registry.ts'
import { CHANNEL_NAMES, type OutgoingMessage, type Recipient, type SendResult } from '../../channels/types.ts'
import { systemClock } from '../../domain/clock.ts'
import { NudgeError } from '../../domain/errors.ts'
import { TEMPLATE_NAME } from '../../domain/templates/parse.ts'
import type { TemplateError } from '../../domain/templates/types.ts'
import { makeTemplateCache, recipientOf } from '../../runtime/dispatch/compose.ts'
import {
  markAsTest,
  type PreviewInput,
  previewMessage,
  sampleProfile,
} from '../../runtime/dispatch/preview.ts'
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

  /** Everything a preview needs, loaded; 404 for an unknown template, profile or journey. */
  async function load(
    ws: string,
    name: string,
    body: z.output<typeof PreviewBody>,
    profile?: RecipientProfile,
  ) {
    const workspaces = await loadWorkspaces(deps.db, new Map([[ws, new Set([name])]]))
    const w = workspaces.get(ws)
    if (!w) throw new NudgeError('NUDGE_ERR_NOT_FOUND', `The workspace "${ws}" has no link secret yet`)
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
    return { w, compiled: compiled.template, who, journey }
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
      const ws = workspaceOf(req)
      const { w, compiled, who, journey } = await load(ws, params.name, body)
      const profile = who ?? sampleProfile()
      const now = clock.now()
      const preview = previewMessage({
        messageId: `preview:${randomUUID()}`,
        template: compiled,
        profile,
        to: recipientOf(profile, undefined),
        ...(body.event ? { event: body.event } : {}),
        ...(journey ? { journey } : {}),
        workspace: { id: w.id, name: w.name },
        links: { baseUrl, secret: w.secret },
        now,
      })
      return {
        template: params.name,
        channel: compiled.definition.channel,
        profile: who ? { id: who.profileId, userId: who.userId } : null,
        parts: preview.ok ? { ...preview.message.content } : preview.parts,
        problems: preview.problems.map(problemJson),
      }
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
      const messageId = `test:${randomUUID()}`
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
      const result = await sendNow(channel, w.channelConfigs.get(channel), message)
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

  /** Opens the workspace's channel (else the server default) for this one message. */
  async function sendNow(
    channel: (typeof CHANNEL_NAMES)[number],
    stored: unknown,
    message: OutgoingMessage,
  ): Promise<SendResult> {
    const raw = stored ?? deps.channelDefaults?.[channel]
    if (raw === undefined)
      return {
        ok: false,
        kind: 'misconfigured',
        reason: `the ${channel} channel is not configured for this workspace (PUT /api/v1/channels/${channel})`,
      }
    const mailbox = channel === 'email' && !(raw as { url?: unknown }).url
    if (mailbox && !deps.dataDir)
      return {
        ok: false,
        kind: 'misconfigured',
        reason: 'this server has no local mailbox; set NUDGE_SMTP_URL',
      }
    const opened = openChannel(channel, raw, {
      clock,
      dataDir: deps.dataDir ?? '',
      inAppInbox: inAppInbox(deps.db),
    })
    if (!opened.ok)
      return {
        ok: false,
        kind: 'misconfigured',
        reason: `the ${channel} channel config is invalid: ${opened.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
      }
    try {
      return await opened.channel.send(message, { signal: AbortSignal.timeout(30_000) })
    } finally {
      await opened.channel.close()
    }
  }
}
