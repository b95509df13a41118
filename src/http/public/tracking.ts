// GET /o/<token>.gif: the open pixel. Always answers the 1x1 GIF (a broken image in a
// member's mail helps nobody), records the open only when the token verifies.
// GET /c/<token>: the click redirect. The target URL is inside the signature, so a changed
// or foreign URL is refused with 400 and never redirected to: no open redirect.
import type { FastifyInstance } from 'fastify'
import { classifyHit } from '../../domain/messages/bots.ts'
import { findTrackedMessage, recordClick, recordOpen } from '../../store/tracking.ts'
import type { PublicDeps } from './deps.ts'
import { INVALID_LINK_PAGE } from './html.ts'
import { verifyPublicLink } from './verify.ts'

/** The smallest transparent GIF (43 bytes). */
export const PIXEL = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64')

export function trackingRoutes(app: FastifyInstance, deps: PublicDeps): void {
  const { db, clock, log } = deps

  app.get<{ Params: { file: string } }>('/o/:file', async (req, reply) => {
    reply
      .type('image/gif')
      // Every load must reach us, or later opens (and a human after a scanner) go unseen.
      .header('cache-control', 'no-store, no-cache, must-revalidate, private')
      .header('pragma', 'no-cache')
    const token = req.params.file.replace(/\.gif$/, '')
    try {
      const now = clock.now()
      const v = await verifyPublicLink(db, token, 'open', now)
      if (v.ok) {
        await db.transaction(async (tx) => {
          const m = await findTrackedMessage(tx, v.claims.workspaceId, v.claims.messageId)
          if (!m) return
          const userAgent = req.headers['user-agent']
          const verdict = classifyHit({
            userAgent,
            at: now,
            sentAt: m.sentAt,
            ...(m.prefetchWindowMs !== undefined ? { prefetchWindowMs: m.prefetchWindowMs } : {}),
          })
          await recordOpen(tx, m, { verdict, userAgent, at: now, source: 'open_pixel' })
        })
      }
    } catch (err) {
      log.warn({ err }, 'open pixel: could not record the open')
    }
    return reply.send(PIXEL)
  })

  app.get<{ Params: { token: string } }>('/c/:token', async (req, reply) => {
    const now = clock.now()
    const v = await verifyPublicLink(db, req.params.token, 'click', now)
    if (!v.ok) return reply.status(400).type('text/html; charset=utf-8').send(INVALID_LINK_PAGE)
    const { url } = v.claims
    try {
      await db.transaction(async (tx) => {
        const m = await findTrackedMessage(tx, v.claims.workspaceId, v.claims.messageId)
        if (!m) return
        const userAgent = req.headers['user-agent']
        const verdict = classifyHit({
          userAgent,
          at: now,
          sentAt: m.sentAt,
          ...(m.prefetchWindowMs !== undefined ? { prefetchWindowMs: m.prefetchWindowMs } : {}),
        })
        await recordClick(tx, m, { url, verdict, userAgent, at: now })
      })
    } catch (err) {
      // The member still gets where they were going; the click is lost, and logged.
      log.warn({ err }, 'click: could not record the click')
    }
    return reply
      .header('cache-control', 'no-store')
      .header('referrer-policy', 'no-referrer')
      .redirect(url, 302)
  })
}
