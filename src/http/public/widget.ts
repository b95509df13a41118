// GET /widget.js: the in-app widget, a plain script read once at start.
import { readFileSync } from 'node:fs'
import type { FastifyInstance } from 'fastify'

const WIDGET = readFileSync(new URL('./widget.js', import.meta.url), 'utf8')

export function widgetRoute(app: FastifyInstance): void {
  app.get('/widget.js', async (_req, reply) =>
    reply
      .type('application/javascript; charset=utf-8')
      .header('cache-control', 'public, max-age=300')
      .header('access-control-allow-origin', '*')
      .send(WIDGET),
  )
}
