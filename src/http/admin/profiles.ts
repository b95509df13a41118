// Profiles: search, one profile (any of its ids), its timeline, and erasure.
import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import { systemClock } from '../../domain/clock.ts'
import { NudgeError } from '../../domain/errors.ts'
import { listProfileEvents } from '../../store/events-read.ts'
import { eraseProfile } from '../../store/profiles/erase.ts'
import { getProfile, profileFamily, resolveProfileId, searchProfiles } from '../../store/profiles/read.ts'
import { communityView } from '../community-view.ts'
import { cursorParam, encodeCursor, limitParam } from '../cursor.ts'
import { route } from '../openapi.ts'
import { type AdminDeps, workspaceOf } from './context.ts'
import {
  EventSchema,
  eventJson,
  ProfileSchema,
  ProfileSummarySchema,
  page,
  profileJson,
  profileSummaryJson,
} from './schemas.ts'

export const ProfileParams = z.object({
  id: z.string().min(1).max(500).describe('A userId, an anonymousId or a profile id'),
})

export const profileNotFound = (id: string) =>
  new NudgeError('NUDGE_ERR_NOT_FOUND', `No profile has the userId, anonymousId or id "${id}"`)

export function profileRoutes(app: FastifyInstance, deps: AdminDeps): void {
  route(
    app,
    {
      method: 'GET',
      path: '/api/v1/profiles',
      operationId: 'searchProfiles',
      summary: 'Search profiles, newest first',
      description:
        '`q` matches a userId, an anonymousId or a profile id (following merges) or an email in any case; ' +
        '`trait=key:value` matches profiles whose trait equals the value. Both may be combined.',
      tags: ['profiles'],
      security: 'adminKey',
      query: z.object({
        q: z.string().min(1).max(500).optional(),
        trait: z
          .string()
          .regex(/^[^:]+:/, 'use key:value, e.g. plan:pro')
          .optional()
          .describe('key:value; the value is compared as text (plan:pro, age:42, beta:true)'),
        limit: limitParam(),
        cursor: cursorParam(z.object({ createdAt: z.string(), id: z.uuid() })),
      }),
      response: page(ProfileSummarySchema),
    },
    async ({ query, req }) => {
      const i = query.trait?.indexOf(':') ?? -1
      const trait =
        query.trait && i > 0 ? { key: query.trait.slice(0, i), value: query.trait.slice(i + 1) } : undefined
      const result = await searchProfiles(deps.db, workspaceOf(req), {
        q: query.q,
        trait,
        limit: query.limit,
        after: query.cursor,
      })
      return {
        items: result.items.map(profileSummaryJson),
        nextCursor: result.next ? encodeCursor(result.next) : null,
      }
    },
  )

  route(
    app,
    {
      method: 'GET',
      path: '/api/v1/profiles/{id}',
      operationId: 'getProfile',
      summary: 'A profile with its traits, identities, event counters, groups, stage, score and badges',
      description: 'A profile that was merged into another answers with the profile that absorbed it.',
      tags: ['profiles'],
      security: 'adminKey',
      params: ProfileParams,
      response: ProfileSchema,
      errors: [404],
    },
    async ({ params, req }) => {
      const ws = workspaceOf(req)
      const profile = await getProfile(deps.db, ws, params.id)
      if (!profile) throw profileNotFound(params.id)
      return profileJson(
        profile,
        await communityView(deps.db, ws, profile.id, (deps.clock ?? systemClock).now()),
      )
    },
  )

  route(
    app,
    {
      method: 'GET',
      path: '/api/v1/profiles/{id}/events',
      operationId: 'listProfileEvents',
      summary: "A profile's timeline, newest first",
      description: 'Ordered by event timestamp, then by arrival. Includes the events of merged profiles.',
      tags: ['profiles', 'events'],
      security: 'adminKey',
      params: ProfileParams,
      query: z.object({
        limit: limitParam(),
        cursor: cursorParam(z.object({ ts: z.string(), seq: z.number().int() })),
      }),
      response: page(EventSchema),
      errors: [404],
    },
    async ({ params, query, req }) => {
      const ws = workspaceOf(req)
      const profileId = await resolveProfileId(deps.db, ws, params.id)
      if (!profileId) throw profileNotFound(params.id)
      const family = await profileFamily(deps.db, ws, profileId)
      const result = await listProfileEvents(deps.db, ws, family, { limit: query.limit, after: query.cursor })
      return {
        items: result.items.map(eventJson),
        nextCursor: result.next ? encodeCursor(result.next) : null,
      }
    },
  )

  route(
    app,
    {
      method: 'DELETE',
      path: '/api/v1/profiles/{id}',
      operationId: 'eraseProfile',
      summary: 'Erase a person: profile, merged profiles, events, identities, counters, group memberships',
      description:
        'Runs in one transaction. Hashes (sha256) of the userIds, anonymousIds and email are kept as ' +
        'suppressions so the person is never contacted again. Answers with the number of rows erased.',
      tags: ['profiles'],
      security: 'adminKey',
      params: ProfileParams,
      response: z.object({
        profileId: z.uuid(),
        erased: z.record(z.string(), z.number()).describe('Rows removed per kind of data'),
        suppressions: z.number().describe('Identifiers recorded as suppressed'),
      }),
      errors: [404],
    },
    async ({ params, req }) => {
      const result = await eraseProfile(deps.db, workspaceOf(req), params.id)
      if (!result) throw profileNotFound(params.id)
      req.log.info({ profileId: result.profileId, erased: result.counts }, 'profile erased')
      return { profileId: result.profileId, erased: result.counts, suppressions: result.suppressions }
    },
  )
}
