// Community events emitted outside the processor (admin actions, background jobs): the
// messageId is fixed by the cause, so doing the same thing again appends nothing.

import type { Queryable } from '../../store/db.ts'
import { emitProfileEvent } from '../../store/events.ts'
import { COMMUNITY_HOOK } from './hook.ts'
import type { EmitCommunity } from './member.ts'

export function actionEmitter(q: Queryable, ws: string, profileId: string, cause: string): EmitCommunity {
  return async (e, key) => {
    await emitProfileEvent(q, {
      workspaceId: ws,
      profileId,
      messageId: `nudge:${COMMUNITY_HOOK}:${key}:${cause}:${profileId}`,
      event: e.name,
      properties: e.properties,
      at: e.timestamp,
    })
  }
}
