// A transactional "code" message outside any journey, queued by hand for the dispatcher.
import type { NewMessage } from '../../src/store/messages.ts'

export function codeMessage(
  workspaceId: string,
  profileId: string,
  messageId: string,
  at: Date,
  channel = 'email',
): NewMessage {
  return {
    workspaceId,
    profileId,
    messageId,
    journeyId: null,
    runId: null,
    stepId: null,
    channel,
    template: 'code',
    payload: { transactional: true },
    notBefore: at,
    createdAt: at,
  }
}
