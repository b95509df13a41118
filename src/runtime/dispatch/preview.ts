// A template rendered for one profile and a sample event the way the dispatcher renders it
// (composeMessage: same context, links, tracking), without a queued message behind it. A
// send stops at the first problem; a preview renders each part on its own and lists them all.
import type { LinkSettings } from '../../channels/prepare.ts'
import type { MessageContent, OutgoingMessage, Recipient } from '../../channels/types.ts'
import { type CompiledTemplate, compileTemplate } from '../../domain/templates/render.ts'
import {
  PART_NAMES,
  type PartName,
  type TemplateDefinition,
  type TemplateError,
} from '../../domain/templates/types.ts'
import type { QueuedMessage } from '../../store/messages.ts'
import type { RecipientProfile } from '../../store/profiles/recipient.ts'
import { composeMessage } from './compose.ts'

/** Who a preview or test send without a profile renders for: no traits, this id. */
export const SAMPLE_PROFILE_ID = '00000000-0000-0000-0000-000000000000'

export function sampleProfile(): RecipientProfile {
  return { profileId: SAMPLE_PROFILE_ID, userId: null, anonymousIds: [], traits: {}, timezone: null }
}

export interface SampleEvent {
  readonly name: string
  readonly properties?: Readonly<Record<string, unknown>> | undefined
}

export interface PreviewInput {
  readonly messageId: string
  readonly template: CompiledTemplate
  readonly profile: RecipientProfile
  readonly to: Recipient
  readonly event?: SampleEvent
  readonly journey?: { readonly id: string; readonly name: string }
  readonly workspace: { readonly id: string; readonly name: string }
  readonly links: LinkSettings
  readonly now: Date
}

export type PreviewResult =
  | { readonly ok: true; readonly message: OutgoingMessage; readonly problems: readonly [] }
  | {
      readonly ok: false
      readonly parts: Partial<MessageContent>
      readonly problems: readonly TemplateError[]
    }

export function previewMessage(input: PreviewInput): PreviewResult {
  const queued: QueuedMessage = {
    workspaceId: input.workspace.id,
    profileId: input.profile.profileId,
    messageId: input.messageId,
    journeyId: input.journey?.id ?? null,
    runId: null,
    stepId: null,
    channel: input.template.definition.channel,
    template: input.template.definition.name,
    payload: {
      ...(input.event
        ? {
            event: {
              name: input.event.name,
              type: 'track',
              timestamp: input.now.toISOString(),
              properties: input.event.properties ?? {},
            },
          }
        : {}),
      ...(input.journey ? { journeyName: input.journey.name } : {}),
    },
    notBefore: input.now,
    createdAt: input.now,
    attempts: 0,
    leaseOwner: '',
  }
  const compose = (template: CompiledTemplate) =>
    composeMessage({
      message: queued,
      template,
      profile: input.profile,
      workspace: input.workspace,
      to: input.to,
      links: input.links,
      now: input.now,
    })
  const whole = compose(input.template)
  if (whole.ok) return { ok: true, message: whole.message, problems: [] }

  const parts: Partial<Record<PartName, string>> = {}
  const problems: TemplateError[] = []
  for (const [name, liquid] of Object.entries(input.template.parts) as [PartName, unknown][]) {
    const one = compose({ ...input.template, parts: { [name]: liquid } } as CompiledTemplate)
    if (!one.ok) problems.push(one.error)
    else {
      const value = one.message.content[name]
      if (value !== undefined) parts[name] = value
      // The text a client shows without HTML, generated as a send would when there is no text part.
      if (name === 'html' && input.template.parts.text === undefined) parts.text = one.message.content.text
    }
  }
  return { ok: false, parts, problems }
}

/**
 * A template being written (not stored yet) compiled part by part: an unknown filter or a
 * syntax error in one part is a problem of that part, and the other parts still preview.
 */
export function compileEachPart(definition: TemplateDefinition): {
  readonly template: CompiledTemplate
  readonly problems: readonly TemplateError[]
} {
  const parts: CompiledTemplate['parts'] = {}
  const problems: TemplateError[] = []
  const others = Object.fromEntries(PART_NAMES.map((p) => [p, undefined]))
  for (const part of PART_NAMES) {
    if (definition[part] === undefined) continue
    const one = compileTemplate({ ...definition, ...others, [part]: definition[part] } as TemplateDefinition)
    if (one.ok) Object.assign(parts, one.template.parts)
    else problems.push(one.error)
  }
  return { template: { definition, parts }, problems }
}

/** A test send says so where the member looks first: the subject, else the start of the text. */
export function markAsTest(content: MessageContent): MessageContent {
  return content.subject !== undefined
    ? { ...content, subject: `[Test] ${content.subject}` }
    : { ...content, text: `[Test] ${content.text}` }
}
