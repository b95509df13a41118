// The community reports (docs/community.md), one route each. "Now" is the server clock
// unless `at` is given; periods default to the last 90 days. Each answers from one or two
// set-based statements over the state tables and their rollups (the distribution over
// time: one for the whole series).
import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import { systemClock } from '../../domain/clock.ts'
import { durationMs } from '../../domain/conditions/duration.ts'
import { DurationSchema } from '../../domain/conditions/schema.ts'
import { NudgeError } from '../../domain/errors.ts'
import { loadSettings } from '../../runtime/community/settings.ts'
import {
  activeVsInactive,
  badgeReport,
  stageConversion,
  stageDistribution,
  stageDistributionSeries,
  stuckList,
  stuckMembers,
  topByContent,
  topByScore,
  weeklyCohorts,
} from '../../store/community-reports.ts'
import { route } from '../openapi.ts'
import { type AdminDeps, workspaceOf } from './context.ts'

const DAY = 86_400_000
const Timestamp = z.iso.datetime()
const At = z.iso.datetime().optional().describe('The moment the report is computed for (default: now)')
const Period = z.object({
  from: z.iso.datetime().optional().describe('Start of the period (default: 90 days before `to`)'),
  to: z.iso.datetime().optional().describe('End of the period, excluded (default: now)'),
})

function period(q: { from?: string | undefined; to?: string | undefined }, now: Date) {
  const to = q.to ? new Date(q.to) : now
  const from = q.from ? new Date(q.from) : new Date(to.getTime() - 90 * DAY)
  if (from >= to)
    throw new NudgeError('NUDGE_ERR_VALIDATION', 'from must be before to', [
      { path: 'query.from', message: 'from must be before to' },
    ])
  return { from, to }
}

const iso = (d: Date) => d.toISOString()

export function reportRoutes(app: FastifyInstance, deps: AdminDeps): void {
  const clock = deps.clock ?? systemClock
  const base = { tags: ['reports'], security: 'adminKey' as const }
  const settingsOf = (ws: string) => loadSettings(deps.db, ws)

  route(
    app,
    {
      ...base,
      method: 'GET',
      path: '/api/v1/reports/stages',
      operationId: 'reportStages',
      summary: 'Members per stage now (or at a past moment), in funnel order, empty stages included',
      query: z.object({ at: At }),
      response: z.object({
        at: Timestamp,
        stages: z.array(z.object({ stage: z.string(), name: z.string(), members: z.number() })),
      }),
    },
    async ({ query, req }) => {
      const ws = workspaceOf(req)
      const s = await settingsOf(ws)
      const at = query.at ? new Date(query.at) : undefined
      const rows = await stageDistribution(deps.db, ws, s.stages, at)
      const names = new Map(s.stages.stages.map((d) => [d.id, d.name]))
      return {
        at: iso(at ?? clock.now()),
        stages: rows.map((r) => ({ ...r, name: names.get(r.stage) ?? r.stage })),
      }
    },
  )

  route(
    app,
    {
      ...base,
      method: 'GET',
      path: '/api/v1/reports/stages/history',
      operationId: 'reportStagesOverTime',
      summary: 'Members per stage at each point of a period (distribution over time)',
      query: Period.extend({
        points: z.coerce.number().int().min(2).max(60).default(12).describe('Points in the series, 2 to 60'),
      }),
      response: z.object({
        series: z.array(
          z.object({ at: Timestamp, stages: z.array(z.object({ stage: z.string(), members: z.number() })) }),
        ),
      }),
      errors: [400],
    },
    async ({ query, req }) => {
      const ws = workspaceOf(req)
      const s = await settingsOf(ws)
      const { from, to } = period(query, clock.now())
      const step = (to.getTime() - from.getTime()) / (query.points - 1)
      const ats = Array.from(
        { length: query.points },
        (_, i) => new Date(Math.round(from.getTime() + i * step)),
      )
      const counts = await stageDistributionSeries(deps.db, ws, s.stages, ats)
      return { series: ats.map((at, i) => ({ at: iso(at), stages: counts[i] ?? [] })) }
    },
  )

  route(
    app,
    {
      ...base,
      method: 'GET',
      path: '/api/v1/reports/stages/conversion',
      operationId: 'reportStageConversion',
      summary:
        'Per stage over a period: entered, moved up, moved down, conversion, median time before moving up',
      query: Period,
      response: z.object({
        from: Timestamp,
        to: Timestamp,
        stages: z.array(
          z.object({
            stage: z.string(),
            entered: z.number(),
            promoted: z.number(),
            demoted: z.number(),
            conversion: z.number().nullable(),
            medianMsBeforePromotion: z.number().nullable(),
          }),
        ),
      }),
      errors: [400],
    },
    async ({ query, req }) => {
      const ws = workspaceOf(req)
      const { from, to } = period(query, clock.now())
      const stages = await stageConversion(deps.db, ws, (await settingsOf(ws)).stages, from, to)
      return { from: iso(from), to: iso(to), stages }
    },
  )

  route(
    app,
    {
      ...base,
      method: 'GET',
      path: '/api/v1/reports/stuck',
      operationId: 'reportStuck',
      summary: 'Stuck members per stage; with `stage`, the list of them, longest in the stage first',
      query: z.object({
        at: At,
        stage: z.string().min(1).max(64).optional(),
        limit: z.coerce.number().int().min(1).max(1000).default(50),
      }),
      response: z.object({
        at: Timestamp,
        stages: z.array(z.object({ stage: z.string(), stuck: z.number() })),
        members: z
          .array(z.object({ profileId: z.uuid(), userId: z.string().nullable(), enteredAt: Timestamp }))
          .optional(),
      }),
      errors: [400],
    },
    async ({ query, req }) => {
      const ws = workspaceOf(req)
      const s = await settingsOf(ws)
      const at = query.at ? new Date(query.at) : clock.now()
      const stages = await stuckMembers(deps.db, ws, s.stages, at)
      if (!query.stage) return { at: iso(at), stages }
      const i = s.stages.index.get(query.stage)
      if (i === undefined)
        throw new NudgeError('NUDGE_ERR_VALIDATION', `unknown stage "${query.stage}"`, [
          { path: 'query.stage', message: `use one of ${s.stages.ids.join(', ')}` },
        ])
      const after = s.stages.stuckAfterMs[i]
      const members =
        after === null || after === undefined
          ? []
          : await stuckList(deps.db, ws, query.stage, after, at, query.limit)
      return { at: iso(at), stages, members: members.map((m) => ({ ...m, enteredAt: iso(m.enteredAt) })) }
    },
  )

  route(
    app,
    {
      ...base,
      method: 'GET',
      path: '/api/v1/reports/activity',
      operationId: 'reportActivity',
      summary: 'Members (stage member or above) active within a window, and the others',
      description: 'Active: performed an event worth points within the window.',
      query: z.object({
        at: At,
        window: DurationSchema.default('30d').describe('Activity window (default 30d)'),
        from_stage: z.string().min(1).max(64).default('member').describe('Lowest stage counted as a member'),
      }),
      response: z.object({ at: Timestamp, active: z.number(), inactive: z.number() }),
    },
    async ({ query, req }) => {
      const ws = workspaceOf(req)
      const s = await settingsOf(ws)
      const at = query.at ? new Date(query.at) : clock.now()
      const r = await activeVsInactive(deps.db, ws, s.stages, query.from_stage, at, durationMs(query.window))
      return { at: iso(at), ...r }
    },
  )

  route(
    app,
    {
      ...base,
      method: 'GET',
      path: '/api/v1/reports/top-contributors',
      operationId: 'reportTopContributors',
      summary: 'Top contributors by decayed score now, or by content created (all time)',
      query: z.object({
        by: z.enum(['score', 'content']).default('score'),
        at: At,
        limit: z.coerce.number().int().min(1).max(100).default(20),
      }),
      response: z.object({
        by: z.enum(['score', 'content']),
        members: z.array(z.object({ profileId: z.uuid(), value: z.number() })),
      }),
    },
    async ({ query, req }) => {
      const ws = workspaceOf(req)
      if (query.by === 'content') {
        const rows = await topByContent(deps.db, ws, query.limit)
        return { by: query.by, members: rows.map((r) => ({ profileId: r.profileId, value: r.created })) }
      }
      const s = await settingsOf(ws)
      const at = query.at ? new Date(query.at) : clock.now()
      const rows = await topByScore(deps.db, ws, at, s.score.halfLifeMs, query.limit)
      return { by: query.by, members: rows.map((r) => ({ profileId: r.profileId, value: r.score })) }
    },
  )

  route(
    app,
    {
      ...base,
      method: 'GET',
      path: '/api/v1/reports/cohorts',
      operationId: 'reportCohorts',
      summary: 'Weekly cohorts by the week members first entered `member`, with weekly retention',
      description:
        'retained[k]: members of the cohort who performed an event worth points in week k after joining.',
      query: Period.extend({
        weeks: z.coerce.number().int().min(1).max(26).default(8),
        join_stage: z.string().min(1).max(64).default('member'),
      }),
      response: z.object({
        cohorts: z.array(z.object({ cohort: Timestamp, members: z.number(), retained: z.array(z.number()) })),
      }),
      errors: [400],
    },
    async ({ query, req }) => {
      const ws = workspaceOf(req)
      const { from, to } = period(query, clock.now())
      const rows = await weeklyCohorts(deps.db, ws, query.join_stage, from, to, query.weeks)
      return { cohorts: rows.map((r) => ({ ...r, cohort: iso(r.cohort) })) }
    },
  )

  route(
    app,
    {
      ...base,
      method: 'GET',
      path: '/api/v1/reports/badges',
      operationId: 'reportBadges',
      summary: 'Badges by holders now (revoked excluded), most held first',
      response: z.object({
        badges: z.array(z.object({ badge: z.string(), holders: z.number(), awards: z.number() })),
      }),
    },
    async ({ req }) => ({ badges: await badgeReport(deps.db, workspaceOf(req)) }),
  )
}
