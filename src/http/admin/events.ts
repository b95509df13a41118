// GET /api/v1/events: the workspace's recent events.
import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import { listEvents } from '../../store/events-read.ts'
import { cursorParam, encodeCursor, limitParam } from '../cursor.ts'
import { route } from '../openapi.ts'
import { type AdminDeps, workspaceOf } from './context.ts'
import { EventSchema, eventJson, page } from './schemas.ts'

export function eventRoutes(app: FastifyInstance, deps: AdminDeps): void {
  route(
    app,
    {
      method: 'GET',
      path: '/api/v1/events',
      operationId: 'listEvents',
      summary: 'Recent events of the workspace, newest received first',
      description:
        '`since` and `until` select by when events happened (their timestamp); pages stay in log order, ' +
        'so a cursor keeps its filters.',
      tags: ['events'],
      security: 'adminKey',
      query: z.object({
        name: z
          .string()
          .min(1)
          .optional()
          .describe('Only events with this name (track event, page or screen name)'),
        since: z.iso
          .datetime({ offset: true })
          .optional()
          .describe('Only events that happened at or after this time (ISO 8601)'),
        until: z.iso
          .datetime({ offset: true })
          .optional()
          .describe('Only events that happened before this time (ISO 8601)'),
        limit: limitParam(),
        cursor: cursorParam(z.object({ seq: z.number().int() })),
      }),
      response: page(EventSchema),
    },
    async ({ query, req }) => {
      const result = await listEvents(deps.db, workspaceOf(req), {
        limit: query.limit,
        name: query.name,
        beforeSeq: query.cursor?.seq,
        since: query.since === undefined ? undefined : new Date(query.since),
        until: query.until === undefined ? undefined : new Date(query.until),
      })
      return {
        items: result.items.map(eventJson),
        nextCursor: result.next === undefined ? null : encodeCursor({ seq: result.next }),
      }
    },
  )
}
