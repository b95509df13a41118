// POST   /v1/push/subscriptions  stores the browser's PushSubscription for the member
// DELETE /v1/push/subscriptions  forgets it ({ "endpoint": ... }), when the member turns push off
import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import { subscriptionProblem } from '../../channels/push.ts'
import { NudgeError } from '../../domain/errors.ts'
import { removePushSubscription, savePushSubscription } from '../../store/push-subscriptions.ts'
import type { PublicDeps } from './deps.ts'
import { authenticateMember } from './member.ts'

// The shape of PushSubscription.toJSON() in browsers; expirationTime is ignored.
const body = z.object({
  endpoint: z.string().max(2048),
  keys: z.object({ p256dh: z.string().max(200), auth: z.string().max(100) }),
})

export function pushRoutes(app: FastifyInstance, deps: PublicDeps): void {
  const { db, clock } = deps

  app.post('/v1/push/subscriptions', async (req, reply) => {
    const member = await authenticateMember(db, req)
    const parsed = body.safeParse(req.body)
    if (!parsed.success) {
      throw new NudgeError(
        'NUDGE_ERR_VALIDATION',
        'Send the browser PushSubscription as JSON: { endpoint, keys: { p256dh, auth } }',
        parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
      )
    }
    const problem = subscriptionProblem(parsed.data)
    if (problem) throw new NudgeError('NUDGE_ERR_VALIDATION', problem, [{ path: 'keys', message: problem }])
    if (!member.profileId) {
      throw new NudgeError(
        'NUDGE_ERR_NOT_FOUND',
        'No profile for this userId yet: send an identify call for the member first',
      )
    }
    await savePushSubscription(
      db,
      member.workspaceId,
      member.profileId,
      parsed.data,
      clock.now(),
      req.headers['user-agent'],
    )
    return reply.status(201).send({ ok: true })
  })

  app.delete('/v1/push/subscriptions', async (req, reply) => {
    const member = await authenticateMember(db, req)
    const endpoint = (req.body as { endpoint?: unknown } | undefined)?.endpoint
    if (typeof endpoint !== 'string')
      throw new NudgeError('NUDGE_ERR_VALIDATION', 'Send { "endpoint": "..." }')
    if (member.profileId) await removePushSubscription(db, member.workspaceId, endpoint, member.profileId)
    return reply.status(204).send()
  })
}
