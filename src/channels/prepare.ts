// From a template and a profile to a message ready for its channel: signed unsubscribe and
// preferences links made for this profile and topic, the template rendered with them,
// click tracking and the open pixel applied to the HTML. No I/O: the dispatcher calls it
// with what it loaded, and a template error comes back as a value for the trace.
import { linkUrl } from '../domain/links.ts'
import { insertOpenPixel, trackClicks } from '../domain/messages/tracking.ts'
import { type CompiledTemplate, renderTemplate } from '../domain/templates/render.ts'
import type { TemplateContext, TemplateError } from '../domain/templates/types.ts'
import type { MessageMeta, OutgoingMessage, Recipient } from './types.ts'

export interface LinkSettings {
  /** Public URL of this Nudge (NUDGE_PUBLIC_URL); links and the pixel point under it. */
  readonly baseUrl: string
  /** The workspace's link-signing secret. */
  readonly secret: string
  /** Mailbox for mailto: one-click unsubscribes, e.g. unsubscribe@nudge.example. */
  readonly unsubscribeMailbox?: string
  readonly trackOpens?: boolean
  readonly trackClicks?: boolean
}

export interface PrepareInput {
  readonly template: CompiledTemplate
  /** Everything but links, which are made here. */
  readonly context: Omit<TemplateContext, 'links'>
  readonly messageId: string
  readonly idempotencyKey: string
  readonly to: Recipient
  readonly meta: Omit<MessageMeta, 'template' | 'topic'>
  readonly links: LinkSettings
  readonly now: Date
  /** Where replies go (an inbound address), unless the template names its own. */
  readonly replyTo?: string
}

export type PrepareResult =
  | { readonly ok: true; readonly message: OutgoingMessage }
  | { readonly ok: false; readonly error: TemplateError }

export function prepareMessage(input: PrepareInput): PrepareResult {
  const def = input.template.definition
  const { baseUrl, secret } = input.links
  const ws = input.meta.workspaceId
  const profileId = input.to.profileId
  const topic = def.topic ?? (def.category === 'marketing' ? 'marketing' : undefined)

  const links: Record<string, string> = {
    preferences: linkUrl(baseUrl, { kind: 'preferences', workspaceId: ws, profileId }, secret, input.now),
  }
  if (topic) {
    links.unsubscribe = linkUrl(
      baseUrl,
      { kind: 'unsubscribe', workspaceId: ws, profileId, topic, messageId: input.messageId },
      secret,
      input.now,
    )
  }
  const rendered = renderTemplate(input.template, { ...input.context, links })
  if (!rendered.ok) return rendered

  let html = rendered.parts.html
  if (html !== undefined && def.channel === 'email') {
    const o = { baseUrl, secret, workspaceId: ws, messageId: input.messageId, now: input.now }
    if (input.links.trackClicks !== false) html = trackClicks(html, o)
    if (input.links.trackOpens !== false) html = insertOpenPixel(html, o)
  }

  const token = links.unsubscribe?.slice(links.unsubscribe.lastIndexOf('/') + 1)
  const replyTo = def.replyTo ?? input.replyTo
  const message: OutgoingMessage = {
    id: input.messageId,
    idempotencyKey: input.idempotencyKey,
    category: def.category,
    to: input.to,
    content: { ...rendered.parts, ...(html === undefined ? {} : { html }) },
    meta: { ...input.meta, template: def.name, ...(topic ? { topic } : {}) },
    ...(def.channel === 'email'
      ? {
          email: {
            ...(def.from ? { from: def.from } : {}),
            ...(replyTo ? { replyTo } : {}),
            ...(links.unsubscribe ? { unsubscribeUrl: links.unsubscribe } : {}),
            ...(links.unsubscribe && token && input.links.unsubscribeMailbox
              ? {
                  unsubscribeMailto: `mailto:${input.links.unsubscribeMailbox}?subject=unsubscribe%20${token}`,
                }
              : {}),
          },
        }
      : {}),
  }
  return { ok: true, message }
}
