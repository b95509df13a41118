// Everything members and providers reach without an API key: unsubscribe and preferences
// pages, open and click tracking, the in-app member API and widget, a member's badges,
// push subscriptions, the inbound-reply webhook, SMS delivery reports and email provider events. One
// encapsulated plugin, so its form parsers and CORS headers stay out of the ingest and admin APIs.
import type { FastifyInstance } from 'fastify'
import { memberBadgeRoutes } from './badges.ts'
import type { PublicDeps } from './deps.ts'
import { emailEventRoutes } from './email-events.ts'
import { registerFormParsers } from './form-data.ts'
import { inAppRoutes } from './in-app.ts'
import { inboundRoutes } from './inbound.ts'
import { allowAnyOrigin } from './member.ts'
import { preferencesRoutes } from './preferences.ts'
import { pushRoutes } from './push.ts'
import { smsStatusRoutes } from './sms-status.ts'
import { trackingRoutes } from './tracking.ts'
import { unsubscribeRoutes } from './unsubscribe.ts'
import { widgetRoute } from './widget.ts'

export type { PublicDeps }

export async function publicRoutes(app: FastifyInstance, deps: PublicDeps): Promise<void> {
  registerFormParsers(app)
  allowAnyOrigin(app, ['/v1/in-app/', '/v1/push/', '/v1/member/'])
  unsubscribeRoutes(app, deps)
  preferencesRoutes(app, deps)
  trackingRoutes(app, deps)
  inAppRoutes(app, deps)
  memberBadgeRoutes(app, deps)
  pushRoutes(app, deps)
  inboundRoutes(app, deps)
  smsStatusRoutes(app, deps)
  emailEventRoutes(app, deps)
  widgetRoute(app)
}
