// Who is calling the member API (in-app messages, push subscriptions): the community
// site's page passes its member's userId and the token its server computed,
// HMAC-SHA256(identity secret, userId). A token opens that one member's data and nothing
// else; no cookie is involved, so any origin may call (CORS *).
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { NudgeError } from '../../domain/errors.ts'
import { verifyMemberToken } from '../../domain/member-auth.ts'
import type { Queryable } from '../../store/db.ts'
import { profileIdOfUser } from '../../store/profile-events.ts'
import { workspaceIdentitySecret } from '../../store/workspace-secrets.ts'
import { bearer } from '../auth.ts'

export interface Member {
  readonly workspaceId: string
  readonly userId: string
  /** Undefined until the processor has seen an event from this userId. */
  readonly profileId: string | undefined
}

const header = (req: FastifyRequest, name: string): string | undefined => {
  const v = req.headers[name]
  return typeof v === 'string' && v.length > 0 ? v : undefined
}

export async function authenticateMember(db: Queryable, req: FastifyRequest): Promise<Member> {
  const workspaceId = header(req, 'x-nudge-workspace') ?? 'default'
  const userId = header(req, 'x-nudge-user')
  const token = bearer(req.headers.authorization)
  if (!userId || !token) {
    throw new NudgeError(
      'NUDGE_ERR_UNAUTHORIZED',
      'Send X-Nudge-User (the member userId), X-Nudge-Workspace and Authorization: Bearer <member token>',
    )
  }
  const secret = await workspaceIdentitySecret(db, workspaceId)
  if (!secret || userId.length > 256 || !verifyMemberToken(secret, userId, token)) {
    throw new NudgeError(
      'NUDGE_ERR_UNAUTHORIZED',
      'The member token does not match this userId and workspace',
    )
  }
  return { workspaceId, userId, profileId: await profileIdOfUser(db, workspaceId, userId) }
}

/** The member API answers pages on any origin; there are no cookies to protect. */
export function allowAnyOrigin(app: FastifyInstance, prefixes: readonly string[]): void {
  app.addHook('onRequest', async (req, reply) => {
    if (!prefixes.some((p) => req.url.startsWith(p))) return
    reply
      .header('access-control-allow-origin', '*')
      .header('access-control-allow-headers', 'authorization, content-type, x-nudge-user, x-nudge-workspace')
      .header('access-control-allow-methods', 'GET, POST, DELETE, OPTIONS')
      .header('access-control-max-age', '600')
  })
  // Preflights need a route to reach the hook above.
  for (const p of prefixes) app.options(`${p}*`, async (_req, reply) => reply.status(204).send())
}
