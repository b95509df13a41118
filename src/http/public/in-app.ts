// The member API of the in_app channel, used by /widget.js:
//   GET  /v1/in-app/messages               the member's messages, newest first, not dismissed
//   POST /v1/in-app/messages/:id/read      marks read; the first read is the message's open
//   POST /v1/in-app/messages/:id/dismiss   hides it for good
import type { FastifyInstance } from 'fastify'
import { NudgeError } from '../../domain/errors.ts'
import { listInAppMessages, markInAppMessage } from '../../store/in-app.ts'
import { emitProfileEvents } from '../../store/profile-events.ts'
import { findTrackedMessage, messageProperties, recordOpen } from '../../store/tracking.ts'
import type { PublicDeps } from './deps.ts'
import { authenticateMember } from './member.ts'

export function inAppRoutes(app: FastifyInstance, deps: PublicDeps): void {
  const { db, clock } = deps

  app.get('/v1/in-app/messages', async (req, reply) => {
    const member = await authenticateMember(db, req)
    reply.header('cache-control', 'no-store')
    if (!member.profileId) return { messages: [], unread: 0 }
    const messages = await listInAppMessages(db, member.workspaceId, member.profileId)
    return {
      messages: messages.map((m) => ({
        id: m.id,
        kind: m.kind,
        title: m.title,
        body: m.body,
        url: m.url,
        createdAt: m.createdAt.toISOString(),
        readAt: m.readAt?.toISOString() ?? null,
      })),
      unread: messages.filter((m) => m.readAt === null).length,
    }
  })

  for (const action of ['read', 'dismiss'] as const) {
    app.post<{ Params: { id: string } }>(`/v1/in-app/messages/:id/${action}`, async (req) => {
      const member = await authenticateMember(db, req)
      const notFound = new NudgeError('NUDGE_ERR_NOT_FOUND', 'This member has no such in-app message')
      if (!member.profileId) throw notFound
      const profileId = member.profileId
      const now = clock.now()
      const mark = action === 'read' ? 'read' : 'dismissed'
      return db.transaction(async (tx) => {
        const r = await markInAppMessage(tx, member.workspaceId, profileId, req.params.id, mark, now)
        if (!r.found) throw notFound
        const m = await findTrackedMessage(tx, member.workspaceId, req.params.id)
        if (m && m.profileId === profileId) {
          // Reading (or dismissing unread) is the in-app equivalent of opening a mail.
          await recordOpen(tx, m, {
            verdict: { bot: false },
            userAgent: req.headers['user-agent'],
            at: now,
            source: 'in_app',
          })
          if (mark === 'dismissed' && r.first) {
            await emitProfileEvents(tx, [
              {
                workspaceId: m.workspaceId,
                profileId,
                messageId: `nudge:dismissed:${m.messageId}`,
                name: 'Message Dismissed',
                properties: messageProperties(m),
                at: now,
                source: 'in_app',
              },
            ])
          }
        }
        return { ok: true }
      })
    })
  }
}
