// Messaging metrics (docs/metrics.md): per journey and step, per template, per channel.
// The period selects messages by when they were queued; what happened to them later
// (opens, clicks, conversions within the goal window) counts toward that period.
import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import { systemClock } from '../../domain/clock.ts'
import { NudgeError } from '../../domain/errors.ts'
import { rates } from '../../domain/metrics.ts'
import { getJourney } from '../../store/journeys.ts'
import {
  channelMetrics,
  journeyMetrics,
  type MessageCounts,
  type Period,
  templateMetrics,
} from '../../store/metrics.ts'
import { getTemplate } from '../../store/templates.ts'
import { route } from '../openapi.ts'
import { type AdminDeps, workspaceOf } from './context.ts'

const DAY = 86_400_000
const DEFAULT_DAYS = 30

const PeriodQuery = z.object({
  since: z.iso
    .datetime({ offset: true })
    .optional()
    .describe(
      `Messages queued at or after this time (ISO 8601; default: ${DEFAULT_DAYS} days before \`until\`)`,
    ),
  until: z.iso
    .datetime({ offset: true })
    .optional()
    .describe('Messages queued before this time (ISO 8601; default: now)'),
})

const Rate = z.number().nullable()
const Metrics = z.object({
  messages: z.number().int().describe('Queued in the period, whatever became of them'),
  sent: z.number().int().describe('Handed to their channel (delivered + bounced)'),
  delivered: z.number().int().describe('Accepted by their channel'),
  bounced: z.number().int().describe('Refused by their channel as a hard bounce'),
  opened: z.number().int().describe('Opened by the member; a click counts as an open; bots excluded'),
  botOpened: z.number().int().describe('Opened only by scanners, prefetching proxies or crawlers'),
  clicked: z.number().int().describe('Clicked by the member; bots excluded'),
  botClicked: z.number().int().describe('Clicked only by scanners or crawlers'),
  converted: z.number().int().describe("Credited with their run's conversion (the last message it sent)"),
  unsubscribed: z.number().int().describe('Whose unsubscribe link the member used'),
  openRate: Rate.describe('opened / delivered; null when nothing was delivered'),
  ctr: Rate.describe('clicked / delivered; null when nothing was delivered'),
  conversionRate: Rate.describe('converted / delivered; null when nothing was delivered'),
  unsubscribeRate: Rate.describe('unsubscribed / delivered; null when nothing was delivered'),
  bounceRate: Rate.describe('bounced / sent; null when nothing was sent'),
})
const PeriodOut = z.object({ since: z.iso.datetime(), until: z.iso.datetime() })
const ChannelMetrics = Metrics.extend({ channel: z.string() })

const withRates = <T extends MessageCounts>(c: T) => ({ ...c, ...rates(c) })

function periodOf(q: { since?: string | undefined; until?: string | undefined }, now: Date): Period {
  const until = q.until ? new Date(q.until) : now
  const since = q.since ? new Date(q.since) : new Date(until.getTime() - DEFAULT_DAYS * DAY)
  if (since >= until)
    throw new NudgeError('NUDGE_ERR_VALIDATION', 'since must be before until', [
      { path: 'query.since', message: 'must be before until' },
    ])
  return { since, until }
}

const periodJson = (p: Period) => ({ since: p.since.toISOString(), until: p.until.toISOString() })

export function metricsRoutes(app: FastifyInstance, deps: AdminDeps): void {
  const clock = deps.clock ?? systemClock
  const base = { tags: ['metrics'], security: 'adminKey' as const, method: 'GET' as const }

  route(
    app,
    {
      ...base,
      path: '/api/v1/metrics/journeys/{id}',
      operationId: 'journeyMetrics',
      summary: "A journey's messages: sent, delivered, opened, clicked, converted, unsubscribed, bounced",
      description:
        'Totals and one row per step (with the channel and template it sent) for messages queued in the period.',
      params: z.object({ id: z.string().min(1) }),
      query: PeriodQuery,
      response: z.object({
        journeyId: z.string(),
        period: PeriodOut,
        totals: Metrics,
        steps: z.array(ChannelMetrics.extend({ stepId: z.string().nullable(), template: z.string() })),
      }),
      errors: [400, 404],
    },
    async ({ params, query, req }) => {
      const ws = workspaceOf(req)
      const period = periodOf(query, clock.now())
      if (!(await getJourney(deps.db, ws, params.id)))
        throw new NudgeError('NUDGE_ERR_NOT_FOUND', `No journey has the id "${params.id}"`)
      const m = await journeyMetrics(deps.db, ws, params.id, period)
      return {
        journeyId: params.id,
        period: periodJson(period),
        totals: withRates(m.totals),
        steps: m.steps.map(withRates),
      }
    },
  )

  route(
    app,
    {
      ...base,
      path: '/api/v1/metrics/templates/{name}',
      operationId: 'templateMetrics',
      summary: "A template's messages across journeys, in total and per channel",
      params: z.object({ name: z.string().min(1) }),
      query: PeriodQuery,
      response: z.object({
        template: z.string(),
        period: PeriodOut,
        totals: Metrics,
        channels: z.array(ChannelMetrics),
      }),
      errors: [400, 404],
    },
    async ({ params, query, req }) => {
      const ws = workspaceOf(req)
      const period = periodOf(query, clock.now())
      const m = await templateMetrics(deps.db, ws, params.name, period)
      // A template since removed still has its history; an unknown name has neither.
      if (m.totals.messages === 0 && !(await getTemplate(deps.db, ws, params.name)))
        throw new NudgeError('NUDGE_ERR_NOT_FOUND', `No template is named "${params.name}"`)
      return {
        template: params.name,
        period: periodJson(period),
        totals: withRates(m.totals),
        channels: m.channels.map(withRates),
      }
    },
  )

  route(
    app,
    {
      ...base,
      path: '/api/v1/metrics/channels',
      operationId: 'channelMetrics',
      summary: 'Messages per channel, across journeys and templates',
      query: PeriodQuery,
      response: z.object({ period: PeriodOut, channels: z.array(ChannelMetrics) }),
      errors: [400],
    },
    async ({ query, req }) => {
      const period = periodOf(query, clock.now())
      const rows = await channelMetrics(deps.db, workspaceOf(req), period)
      return { period: periodJson(period), channels: rows.map(withRates) }
    },
  )
}
