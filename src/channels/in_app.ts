// In-app messages: "sending" stores the message for the member, and the widget on the
// community site fetches it through the public API (/v1/in-app/messages). The display
// kind comes from the message's data (`data.kind`), else the channel's default.
// Storage is a port (deps.inAppInbox) so this module stays free of SQL.
import { z } from 'zod'
import { isHttpUrl } from '../domain/links.ts'
import { validateWith } from './config.ts'
import type { ChannelModule, InAppDelivery, SendResult } from './types.ts'
import { failure } from './types.ts'

export const IN_APP_KINDS = ['inbox', 'banner', 'modal', 'fullscreen'] as const

const schema = z.object({
  /** How a message shows when its data names no kind. */
  defaultKind: z.enum(IN_APP_KINDS).default('inbox'),
})

export type InAppConfig = z.output<typeof schema>

/** Long enough for a modal's text; the widget shows text, never HTML. */
const MAX_BODY = 4_000

export const inAppChannel: ChannelModule<InAppConfig> = {
  name: 'in_app',
  validateConfig: (raw) => validateWith(schema, raw ?? {}),
  open(config, deps) {
    return {
      name: 'in_app',
      async send(message): Promise<SendResult> {
        const inbox = deps.inAppInbox
        if (!inbox) return failure('misconfigured', 'the in_app channel has no inbox to store messages in')
        const asked = message.data?.kind
        if (asked !== undefined && !IN_APP_KINDS.includes(asked as InAppDelivery['kind'])) {
          return failure(
            'rejected',
            `data.kind must be one of ${IN_APP_KINDS.join(', ')}, got ${String(asked)}`,
          )
        }
        const url = message.content.url?.trim() || null
        if (url !== null && !isHttpUrl(url)) return failure('rejected', `url must be http(s): ${url}`)
        const body = message.content.text.trim()
        if (!body) return failure('rejected', 'the message has no text')
        if (body.length > MAX_BODY)
          return failure('rejected', `the text is longer than ${MAX_BODY} characters`)
        try {
          const { created } = await inbox.deliver({
            workspaceId: message.meta.workspaceId,
            profileId: message.to.profileId,
            messageId: message.id,
            kind: (asked as InAppDelivery['kind'] | undefined) ?? config.defaultKind,
            title: message.content.subject?.trim() || null,
            body,
            url,
            createdAt: deps.clock.now(),
          })
          return {
            ok: true,
            providerId: `in_app:${message.id}`,
            ...(created ? {} : { detail: 'already stored' }),
          }
        } catch (err) {
          return failure('retryable', `could not store the in-app message: ${(err as Error).message}`)
        }
      },
      async close() {},
    }
  },
}
