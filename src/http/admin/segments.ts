// Segments: define (PUT, the same document as a segment file), list with member counts,
// read, delete, and page through members. Saving a new or changed condition starts a
// backfill on the worker side; the answer does not wait for it (`backfilling`).
import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import { conditionRefs } from '../../domain/conditions/references.ts'
import { NudgeError } from '../../domain/errors.ts'
import { segmentOrder } from '../../domain/segments/order.ts'
import { SEGMENT_ID, SegmentSchema } from '../../domain/segments/schema.ts'
import type { Segment } from '../../domain/segments/types.ts'
import {
  deleteSegment,
  getSegment,
  listMembers,
  listSegmentSummaries,
  listSegments,
  type SegmentSummary,
  saveSegment,
} from '../../store/segments.ts'
import { cursorParam, encodeCursor, limitParam } from '../cursor.ts'
import { route } from '../openapi.ts'
import { type AdminDeps, workspaceOf } from './context.ts'
import { ProfileSummarySchema, page, profileSummaryJson } from './schemas.ts'

const SegmentParams = z.object({
  id: z.string().regex(SEGMENT_ID, 'a segment id: lowercase letters, digits, - or _ (such as power-users)'),
})

const SegmentStateSchema = z.intersection(
  SegmentSchema,
  z.object({
    members: z.number().int().describe('Profiles in the segment now'),
    backfilling: z.boolean().describe('True while members of a new or changed condition are being computed'),
    updatedAt: z.iso.datetime(),
  }),
)

const MemberSchema = ProfileSummarySchema.extend({
  enteredAt: z.iso.datetime().describe('When the profile entered the segment'),
}).meta({ id: 'SegmentMember' })

const segmentJson = (s: SegmentSummary): z.input<typeof SegmentStateSchema> => ({
  ...s.segment,
  members: s.members,
  backfilling: s.backfilling,
  updatedAt: s.updatedAt.toISOString(),
})

const notFound = (id: string) =>
  new NudgeError('NUDGE_ERR_NOT_FOUND', `No segment has the id "${id}"; GET /api/v1/segments lists them`)

/** The workspace's segments with `segment` in place of its old version, checked as a whole. */
function checkReferences(all: readonly Segment[], segment: Segment): void {
  const next = [...all.filter((s) => s.id !== segment.id), segment]
  const order = segmentOrder(next)
  if (order.ok) return
  const issues = order.issues.map((i) => ({ path: 'body.condition', message: i.message }))
  throw new NudgeError(
    'NUDGE_ERR_VALIDATION',
    `Invalid segment: ${issues.map((i) => i.message).join('; ')}`,
    issues,
  )
}

export function segmentRoutes(app: FastifyInstance, deps: AdminDeps): void {
  route(
    app,
    {
      method: 'GET',
      path: '/api/v1/segments',
      operationId: 'listSegments',
      summary: 'Segments of the workspace with their member counts',
      tags: ['segments'],
      security: 'adminKey',
      response: z.object({ items: z.array(SegmentStateSchema) }),
    },
    async ({ req }) => ({ items: (await listSegmentSummaries(deps.db, workspaceOf(req))).map(segmentJson) }),
  )

  route(
    app,
    {
      method: 'GET',
      path: '/api/v1/segments/{id}',
      operationId: 'getSegment',
      summary: 'A segment with its member count',
      tags: ['segments'],
      security: 'adminKey',
      params: SegmentParams,
      response: SegmentStateSchema,
      errors: [404],
    },
    async ({ params, req }) => {
      const s = await getSegment(deps.db, workspaceOf(req), params.id)
      if (!s) throw notFound(params.id)
      return segmentJson(s)
    },
  )

  route(
    app,
    {
      method: 'PUT',
      path: '/api/v1/segments/{id}',
      operationId: 'putSegment',
      summary: 'Create or replace a segment',
      description:
        'The body is a segment document (id, name, description, condition). A new segment, or a changed ' +
        'condition, has its members computed for existing profiles in the background (`backfilling` is true ' +
        'until done); profiles entering or leaving by this backfill emit no Segment Entered / Segment Exited. ' +
        'From then on, events and time keep members up to date and each change is an event. ' +
        'Referring to an unknown segment, or segments referring to each other in a cycle, is a 400.',
      tags: ['segments'],
      security: 'adminKey',
      params: SegmentParams,
      body: SegmentSchema,
      response: SegmentStateSchema,
      errors: [404],
    },
    async ({ params, body, req }) => {
      if (body.id !== params.id)
        throw new NudgeError(
          'NUDGE_ERR_VALIDATION',
          `The body's id "${body.id}" differs from the path's "${params.id}": send the same id in both`,
          [{ path: 'body.id', message: `must be ${params.id}, as in the path` }],
        )
      const ws = workspaceOf(req)
      const saved = await deps.db.transaction(async (tx) => {
        checkReferences(
          (await listSegments(tx, ws)).map((s) => s.segment),
          body,
        )
        const out = await saveSegment(tx, ws, body, deps.clock?.now() ?? new Date())
        return { ...out, state: await getSegment(tx, ws, body.id) }
      })
      if (!saved.state) throw notFound(params.id)
      req.log.info({ segment: body.id, backfill: saved.backfill }, 'segment saved')
      return segmentJson(saved.state)
    },
  )

  route(
    app,
    {
      method: 'DELETE',
      path: '/api/v1/segments/{id}',
      operationId: 'deleteSegment',
      summary: 'Delete a segment and its members',
      description:
        'Members are removed without Segment Exited events. A segment other segments are built on cannot be ' +
        'deleted (409): change or delete those first.',
      tags: ['segments'],
      security: 'adminKey',
      params: SegmentParams,
      response: z.object({ id: z.string(), deleted: z.literal(true) }),
      errors: [404, 409],
    },
    async ({ params, req }) => {
      const ws = workspaceOf(req)
      await deps.db.transaction(async (tx) => {
        const users = (await listSegments(tx, ws))
          .map((s) => s.segment)
          .filter((s) => conditionRefs(s.condition).segments.has(params.id))
        if (users.length)
          throw new NudgeError(
            'NUDGE_ERR_SEGMENT_IN_USE',
            `Segments ${users.map((s) => s.id).join(', ')} are built on ${params.id}; change or delete them first`,
          )
        if (!(await deleteSegment(tx, ws, params.id))) throw notFound(params.id)
      })
      return { id: params.id, deleted: true as const }
    },
  )

  route(
    app,
    {
      method: 'GET',
      path: '/api/v1/segments/{id}/members',
      operationId: 'listSegmentMembers',
      summary: 'Members of a segment, latest entries first',
      tags: ['segments', 'profiles'],
      security: 'adminKey',
      params: SegmentParams,
      query: z.object({
        limit: limitParam(),
        cursor: cursorParam(z.object({ enteredAt: z.string(), id: z.uuid() })),
      }),
      response: page(MemberSchema),
      errors: [404],
    },
    async ({ params, query, req }) => {
      const ws = workspaceOf(req)
      if (!(await getSegment(deps.db, ws, params.id))) throw notFound(params.id)
      const result = await listMembers(deps.db, ws, params.id, { limit: query.limit, after: query.cursor })
      return {
        items: result.items.map((m) => ({ ...profileSummaryJson(m), enteredAt: m.enteredAt.toISOString() })),
        nextCursor: result.next ? encodeCursor(result.next) : null,
      }
    },
  )
}
