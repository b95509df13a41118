// The member API's read of a member's own badges, for the community site to show them:
//   GET /v1/member/badges    (X-Nudge-User, X-Nudge-Workspace, Authorization: Bearer <member token>)
import type { FastifyInstance } from 'fastify'
import { communityView } from '../community-view.ts'
import type { PublicDeps } from './deps.ts'
import { authenticateMember } from './member.ts'

export function memberBadgeRoutes(app: FastifyInstance, deps: PublicDeps): void {
  app.get('/v1/member/badges', async (req, reply) => {
    const member = await authenticateMember(deps.db, req)
    reply.header('cache-control', 'no-store')
    if (!member.profileId) return { badges: [] }
    const view = await communityView(deps.db, member.workspaceId, member.profileId, deps.clock.now())
    return {
      badges: view.badges.map((b) => ({
        badge: b.badge,
        name: b.name,
        count: b.count,
        awardedAt: b.firstAwardedAt,
      })),
    }
  })
}
