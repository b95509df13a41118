// The admin API (/api/v1/*): every route needs an admin key (Bearer) and sees only
// the key's workspace.
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { NudgeError } from '../../domain/errors.ts'
import { bearer, type KeyResolver } from '../auth.ts'
import { channelRoutes } from './channels.ts'
import { communityRoutes } from './community.ts'
import type { AdminDeps } from './context.ts'
import { eventRoutes } from './events.ts'
import { journeyRoutes } from './journeys.ts'
import { keyRoutes } from './keys.ts'
import { metricsRoutes } from './metrics.ts'
import { profileRoutes } from './profiles.ts'
import { reportRoutes } from './reports.ts'
import { runRoutes } from './runs.ts'
import { segmentRoutes } from './segments.ts'
import { templateTestRoutes } from './template-tests.ts'
import { templateRoutes } from './templates.ts'

async function authenticate(keys: KeyResolver, req: FastifyRequest): Promise<void> {
  const header = req.headers.authorization
  const secret = bearer(header)
  if (!secret)
    throw new NudgeError(
      'NUDGE_ERR_UNAUTHORIZED',
      header
        ? 'Send the admin key as "Authorization: Bearer <admin key>"'
        : 'An admin key is required: send "Authorization: Bearer <admin key>"',
    )
  const key = await keys.resolve(secret, 'admin')
  if (key) {
    req.adminWorkspaceId = key.workspaceId
    req.adminKeyId = key.id
    return
  }
  if (await keys.resolve(secret, 'write'))
    throw new NudgeError(
      'NUDGE_ERR_FORBIDDEN',
      'This is a write key, which may only send events (/v1/*); use an admin key for /api/v1/*',
    )
  throw new NudgeError('NUDGE_ERR_UNAUTHORIZED', 'Unknown or revoked admin key')
}

export async function adminApi(app: FastifyInstance, deps: AdminDeps): Promise<void> {
  app.decorateRequest('adminWorkspaceId', '')
  app.decorateRequest('adminKeyId', '')
  await app.register(async (api) => {
    api.addHook('onRequest', async (req) => authenticate(deps.keys, req))
    profileRoutes(api, deps)
    eventRoutes(api, deps)
    keyRoutes(api, deps)
    journeyRoutes(api, deps)
    templateRoutes(api, deps)
    templateTestRoutes(api, deps)
    runRoutes(api, deps)
    channelRoutes(api, deps)
    segmentRoutes(api, deps)
    communityRoutes(api, deps)
    reportRoutes(api, deps)
    metricsRoutes(api, deps)
  })
}
