// The community model's admin routes: the funnel, score table and badge rules of the
// workspace (read, replace), a member's community view, manual stage moves and badge
// revocations. A configuration is checked whole; a bad one changes nothing (400, issues).
import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import { systemClock } from '../../domain/clock.ts'
import { type ErrorIssue, NudgeError } from '../../domain/errors.ts'
import {
  moveMemberStage,
  revokeMemberBadge,
  setBadgeRules,
  setScoreConfig,
  setStageConfig,
} from '../../runtime/community/configure.ts'
import { type CommunitySettings, loadSettings } from '../../runtime/community/settings.ts'
import { type CommunityJob, getCommunityJob, listCommunityJobs } from '../../store/community-jobs.ts'
import { notifyEvents } from '../../store/events.ts'
import { resolveProfileId } from '../../store/profiles/read.ts'
import { CommunityViewSchema, communityView } from '../community-view.ts'
import { route } from '../openapi.ts'
import { type AdminDeps, actorOf, workspaceOf } from './context.ts'

const Timestamp = z.iso.datetime()
const Config = z
  .unknown()
  .describe('A configuration as documented in docs/community.md; validated whole, with field paths')

function invalid(what: string, issues: readonly ErrorIssue[]): NudgeError {
  const shown = issues
    .slice(0, 5)
    .map((i) => `${i.path}: ${i.message}`)
    .join('; ')
  return new NudgeError('NUDGE_ERR_VALIDATION', `The ${what} was not changed: ${shown}`, issues)
}

const Job = z
  .object({
    id: z.number(),
    kind: z.enum(['stages', 'score', 'badges', 'merges']),
    status: z.enum(['running', 'done', 'superseded']),
    rules: z.array(z.string()).nullable().describe('badges: the rules being backfilled'),
    membersTotal: z.number().describe('Profiles when the job started'),
    membersDone: z.number(),
    membersFailed: z
      .number()
      .describe('Members whose evaluation failed; their next event evaluates them again'),
    lastError: z.string().nullable(),
    awards: z.number().describe("badges: awards found so far in members' past"),
    createdBy: z.string().nullable(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
    finishedAt: Timestamp.nullable(),
  })
  .describe('A configuration change being applied to every member in the background')

const jobView = (j: CommunityJob) => ({
  id: j.id,
  kind: j.kind,
  status: j.status,
  rules: j.rules ? [...j.rules] : null,
  membersTotal: j.membersTotal,
  membersDone: j.membersDone,
  membersFailed: j.membersFailed,
  lastError: j.lastError,
  awards: j.awards,
  createdBy: j.createdBy,
  createdAt: j.createdAt.toISOString(),
  updatedAt: j.updatedAt.toISOString(),
  finishedAt: j.finishedAt ? j.finishedAt.toISOString() : null,
})

const Applied = z.object({
  config: Config,
  members: z.number().optional().describe('stages: members who will be re-evaluated against the new funnel'),
  job: Job.nullable()
    .optional()
    .describe('The background job applying the change to every member (badges: null when no rule is new)'),
})

const ProfileParams = z.object({
  id: z.string().min(1).max(500).describe('A userId, an anonymousId or a profile id'),
})

const By = z
  .string()
  .min(1)
  .max(200)
  .optional()
  .describe('Who did it, recorded with the change (default: the admin key)')

export function communityRoutes(app: FastifyInstance, deps: AdminDeps): void {
  const clock = deps.clock ?? systemClock
  const profileOr404 = async (ws: string, id: string) => {
    const profileId = await resolveProfileId(deps.db, ws, id)
    if (!profileId)
      throw new NudgeError('NUDGE_ERR_NOT_FOUND', `No profile has the userId, anonymousId or id "${id}"`)
    return profileId
  }

  const parts = [
    {
      part: 'stages',
      what: 'funnel',
      summary: 'The funnel: ordered stages with criteria, stuck_after and demotion',
      read: (s: CommunitySettings) => s.stageConfig,
      write: setStageConfig,
      description:
        "Replacing it keeps every member's history; a background job re-evaluates every member, so stages, " +
        '`Stage Entered` events and stuck timers follow the new funnel (progress: `GET /api/v1/community/jobs`).',
    },
    {
      part: 'score',
      what: 'score table',
      summary: 'Engagement score: points per event, half-life, thresholds',
      read: (s: CommunitySettings) => s.scoreConfig,
      write: setScoreConfig,
      description:
        'Points apply to events processed from then on; stored scores are kept, and re-ranked with their decay ' +
        'timers by a background job.',
    },
    {
      part: 'badges',
      what: 'badge rules',
      summary: 'Badge rules',
      read: (s: CommunitySettings) => s.badges,
      write: setBadgeRules,
      description:
        "Rules with a new id are backfilled over every member's past events by a background job (`Badge Awarded` " +
        'with `backfilled: true`).',
    },
  ] as const

  for (const p of parts) {
    const op = p.part[0]!.toUpperCase() + p.part.slice(1)
    route(
      app,
      {
        method: 'GET',
        path: `/api/v1/community/${p.part}`,
        operationId: `getCommunity${op}`,
        summary: p.summary,
        description: 'The defaults until the workspace replaces them.',
        tags: ['community'],
        security: 'adminKey',
        response: z.object({ config: Config }),
      },
      async ({ req }) => ({ config: p.read(await loadSettings(deps.db, workspaceOf(req))) }),
    )
    route(
      app,
      {
        method: 'PUT',
        path: `/api/v1/community/${p.part}`,
        operationId: `putCommunity${op}`,
        summary: `Replace the ${p.what}`,
        description: `${p.description} A configuration with any problem is refused whole (400, one issue per problem with its path).`,
        tags: ['community'],
        security: 'adminKey',
        body: z.object({ config: Config, by: By }),
        response: Applied,
        errors: [400],
      },
      async ({ body, req }) => {
        const ws = workspaceOf(req)
        const now = clock.now()
        const by = actorOf(req, body.by)
        const result = await deps.db.transaction(async (tx) => {
          const r = await p.write(tx, ws, body.config, now, by)
          if (!r.ok) throw invalid(p.what, r.issues)
          return r.value
        })
        await notifyEvents(deps.db)
        const { job, ...rest } = result as typeof result & { job?: CommunityJob | null }
        return { ...rest, job: job ? jobView(job) : null }
      },
    )
  }

  route(
    app,
    {
      method: 'GET',
      path: '/api/v1/community/jobs',
      operationId: 'listCommunityJobs',
      summary: 'Configuration changes being applied to every member, and the last ones done, newest first',
      tags: ['community'],
      security: 'adminKey',
      query: z.object({ limit: z.coerce.number().int().min(1).max(100).default(20) }),
      response: z.object({ jobs: z.array(Job) }),
    },
    async ({ query, req }) => ({
      jobs: (await listCommunityJobs(deps.db, workspaceOf(req), query.limit)).map(jobView),
    }),
  )

  route(
    app,
    {
      method: 'GET',
      path: '/api/v1/community/jobs/{jobId}',
      operationId: 'getCommunityJob',
      summary: 'One configuration change being applied to every member: its progress',
      tags: ['community'],
      security: 'adminKey',
      params: z.object({ jobId: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER) }),
      response: Job,
      errors: [404],
    },
    async ({ params, req }) => {
      const job = await getCommunityJob(deps.db, workspaceOf(req), params.jobId)
      if (!job)
        throw new NudgeError('NUDGE_ERR_NOT_FOUND', `No community job ${params.jobId} in this workspace`)
      return jobView(job)
    },
  )

  route(
    app,
    {
      method: 'GET',
      path: '/api/v1/profiles/{id}/community',
      operationId: 'getProfileCommunity',
      summary: "A member's stage, engagement score and badges",
      tags: ['profiles', 'community'],
      security: 'adminKey',
      params: ProfileParams,
      response: CommunityViewSchema,
      errors: [404],
    },
    async ({ params, req }) => {
      const ws = workspaceOf(req)
      return communityView(deps.db, ws, await profileOr404(ws, params.id), clock.now())
    },
  )

  route(
    app,
    {
      method: 'POST',
      path: '/api/v1/profiles/{id}/stage',
      operationId: 'moveProfileStage',
      summary: 'Move a member to a stage by hand',
      description:
        'One stage at a time, like automatic moves: each `Stage Entered` carries `by`, and the history records ' +
        'who did it. Not a lock: automatic rules keep applying afterwards.',
      tags: ['profiles', 'community'],
      security: 'adminKey',
      params: ProfileParams,
      body: z.object({ stage: z.string().min(1).max(64), by: By }),
      response: z.object({
        stage: z.string(),
        transitions: z.number().describe('Stages entered on the way'),
      }),
      errors: [400, 404],
    },
    async ({ params, body, req }) => {
      const ws = workspaceOf(req)
      const profileId = await profileOr404(ws, params.id)
      const r = await deps.db.transaction((tx) =>
        moveMemberStage(tx, ws, profileId, body.stage, clock.now(), actorOf(req, body.by)),
      )
      if (!r.ok) throw invalid('stage', r.issues)
      await notifyEvents(deps.db)
      return r.value
    },
  )

  route(
    app,
    {
      method: 'POST',
      path: '/api/v1/profiles/{id}/badges/{badge}/revoke',
      operationId: 'revokeProfileBadge',
      summary: "Revoke a member's badge",
      description:
        'Emits `Badge Revoked` with who and why. The record is kept and the rule does not award it again.',
      tags: ['profiles', 'community'],
      security: 'adminKey',
      params: ProfileParams.extend({ badge: z.string().min(1).max(64) }),
      body: z.object({ reason: z.string().max(1000).optional(), by: By }),
      response: z.object({ badge: z.string(), revokedAt: Timestamp }),
      errors: [404],
    },
    async ({ params, body, req }) => {
      const ws = workspaceOf(req)
      const profileId = await profileOr404(ws, params.id)
      const now = clock.now()
      const done = await deps.db.transaction((tx) =>
        revokeMemberBadge(tx, ws, profileId, params.badge, now, actorOf(req, body.by), body.reason ?? null),
      )
      if (!done)
        throw new NudgeError(
          'NUDGE_ERR_NOT_FOUND',
          `"${params.id}" does not hold the badge "${params.badge}"`,
        )
      await notifyEvents(deps.db)
      return { badge: params.badge, revokedAt: now.toISOString() }
    },
  )
}
