// API keys of the workspace: list, create (the secret is shown once), revoke.
import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import { NudgeError } from '../../domain/errors.ts'
import { createKey, listKeys, revokeKey } from '../../store/workspaces.ts'
import { route } from '../openapi.ts'
import { type AdminDeps, workspaceOf } from './context.ts'

const Kind = z.enum(['write', 'admin'])

const KeySchema = z
  .object({
    id: z.string(),
    kind: Kind,
    name: z.string().nullable(),
    createdAt: z.iso.datetime(),
    revokedAt: z.iso.datetime().nullable(),
  })
  .meta({ id: 'ApiKey' })

export function keyRoutes(app: FastifyInstance, deps: AdminDeps): void {
  route(
    app,
    {
      method: 'GET',
      path: '/api/v1/keys',
      operationId: 'listKeys',
      summary: 'Keys of the workspace (never their secrets)',
      tags: ['keys'],
      security: 'adminKey',
      response: z.object({ items: z.array(KeySchema) }),
    },
    async ({ req }) => {
      const keys = await listKeys(deps.db, workspaceOf(req))
      return {
        items: keys.map((k) => ({
          id: k.id,
          kind: k.kind,
          name: k.name,
          createdAt: k.createdAt.toISOString(),
          revokedAt: k.revokedAt?.toISOString() ?? null,
        })),
      }
    },
  )

  route(
    app,
    {
      method: 'POST',
      path: '/api/v1/keys',
      operationId: 'createKey',
      summary: 'Create a key; the answer holds its secret, which is never shown again',
      tags: ['keys'],
      security: 'adminKey',
      body: z.object({
        kind: Kind.describe('write: sends events (/v1/*); admin: the admin API'),
        name: z.string().min(1).max(200).optional(),
      }),
      status: 201,
      response: z.object({ id: z.string(), kind: Kind, name: z.string().nullable(), secret: z.string() }),
    },
    async ({ body, req }) => {
      const key = await createKey(deps.db, workspaceOf(req), body.kind, { name: body.name })
      return { id: key.id, kind: key.kind, name: body.name ?? null, secret: key.secret }
    },
  )

  route(
    app,
    {
      method: 'DELETE',
      path: '/api/v1/keys/{id}',
      operationId: 'revokeKey',
      summary: 'Revoke a key; requests with it fail from now on',
      tags: ['keys'],
      security: 'adminKey',
      params: z.object({ id: z.string().min(1).max(200) }),
      response: z.object({ id: z.string(), revoked: z.literal(true) }),
      errors: [404, 409],
    },
    async ({ params, req }) => {
      const ws = workspaceOf(req)
      const revoked = await deps.db.transaction(async (tx) => {
        // Serialises concurrent revocations, so two of them cannot remove the last two admin keys.
        await tx.query("SELECT id FROM api_keys WHERE workspace_id = $1 AND kind = 'admin' FOR UPDATE", [ws])
        const active = await listKeys(tx, ws)
        const target = active.find((k) => k.id === params.id && !k.revokedAt)
        if (!target) return false
        if (target.kind === 'admin' && active.filter((k) => k.kind === 'admin' && !k.revokedAt).length === 1)
          throw new NudgeError('NUDGE_ERR_LAST_ADMIN_KEY')
        return revokeKey(tx, ws, params.id)
      })
      if (!revoked) throw new NudgeError('NUDGE_ERR_NOT_FOUND', `No active key has the id "${params.id}"`)
      // The resolver caches keys; forget them so the revocation holds at once in this process.
      deps.keys.forget()
      return { id: params.id, revoked: true as const }
    },
  )
}
