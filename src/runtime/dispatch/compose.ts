// From a claimed outbox row, its template and its profile to what the guards decide on
// (a SendRequest) and what the channel sends (an OutgoingMessage). No I/O here beyond
// what the caller loaded; a missing variable comes back as a value.
import { type LinkSettings, prepareMessage } from '../../channels/prepare.ts'
import type { OutgoingMessage, PushSubscription, Recipient } from '../../channels/types.ts'
import { CHANNELS, type Channel, type SendRequest } from '../../domain/guards/types.ts'
import { parseTemplate } from '../../domain/templates/parse.ts'
import { type CompiledTemplate, compileTemplate } from '../../domain/templates/render.ts'
import type { TemplateContext, TemplateDefinition, TemplateError } from '../../domain/templates/types.ts'
import type { QueuedMessage } from '../../store/messages.ts'
import type { RecipientProfile } from '../../store/profiles/recipient.ts'
import type { StoredTemplate } from '../../store/workspace-templates.ts'

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined)

export type Compiled =
  | { readonly ok: true; readonly template: CompiledTemplate }
  | { readonly ok: false; readonly reason: string }

/** Parsed and compiled templates, kept until their checksum changes. */
export function makeTemplateCache(): (
  workspaceId: string,
  name: string,
  stored: StoredTemplate | undefined,
) => Compiled {
  const cache = new Map<string, { checksum: string; compiled: Compiled }>()
  return (workspaceId, name, stored) => {
    if (!stored) return { ok: false, reason: `the template "${name}" does not exist in this workspace` }
    const key = `${workspaceId}\u0000${name}`
    const hit = cache.get(key)
    if (hit && hit.checksum === stored.checksum) return hit.compiled
    const parsed = parseTemplate({ ...(stored.definition as object), name })
    let compiled: Compiled
    if (!parsed.ok) {
      compiled = {
        ok: false,
        reason: `the template "${name}" is invalid: ${parsed.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
      }
    } else {
      const c = compileTemplate(parsed.template)
      compiled = c.ok ? c : { ok: false, reason: c.error.message }
    }
    cache.set(key, { checksum: stored.checksum, compiled })
    return compiled
  }
}

export function isChannel(name: string): name is Channel {
  return (CHANNELS as readonly string[]).includes(name)
}

/** What the guards see of this message. */
export function sendRequestOf(
  m: QueuedMessage,
  channel: Channel,
  def: TemplateDefinition,
  profile: RecipientProfile,
): SendRequest {
  const dedupeKey = str(m.payload['dedupeKey'])
  const dedupeWindow = str(m.payload['dedupeWindow'])
  return {
    workspaceId: m.workspaceId,
    messageId: m.messageId,
    profile: { profileId: m.profileId, timezone: profile.timezone },
    channel,
    topic: def.topic ?? (def.category === 'marketing' ? 'marketing' : null),
    category: def.category,
    transactional: m.payload['transactional'] === true || def.category === 'transactional',
    ...(dedupeKey ? { dedupe: { key: dedupeKey, ...(dedupeWindow ? { window: dedupeWindow } : {}) } } : {}),
    ...(m.journeyId && m.stepId ? { origin: { journeyId: m.journeyId, stepId: m.stepId } } : {}),
  }
}

export function recipientOf(profile: RecipientProfile, push: PushSubscription | undefined): Recipient {
  const t = profile.traits
  const name =
    str(t['name']) ?? ([str(t['first_name']), str(t['last_name'])].filter(Boolean).join(' ') || undefined)
  const email = str(t['email'])
  const phone = str(t['phone'])
  return {
    profileId: profile.profileId,
    ...(profile.userId ? { userId: profile.userId } : {}),
    ...(name ? { name } : {}),
    ...(email ? { email } : {}),
    ...(phone ? { phone } : {}),
    ...(push ? { pushSubscription: push } : {}),
  }
}

function eventOf(raw: unknown): TemplateContext['event'] {
  if (!raw || typeof raw !== 'object') return undefined
  const e = raw as Record<string, unknown>
  const ts = e['timestamp']
  return {
    name: str(e['name']) ?? null,
    ...(str(e['type']) ? { type: str(e['type']) as string } : {}),
    ...(ts ? { timestamp: ts instanceof Date ? ts.toISOString() : String(ts) } : {}),
    properties: (e['properties'] as Record<string, unknown> | undefined) ?? {},
  }
}

export interface ComposeInput {
  readonly message: QueuedMessage
  readonly template: CompiledTemplate
  readonly profile: RecipientProfile
  readonly workspace: { readonly id: string; readonly name: string }
  readonly to: Recipient
  readonly links: LinkSettings
  readonly now: Date
  /** The inbound reply address for this message, when replies are received. */
  readonly replyAddress?: string
  /** The envelope sender where this mail's bounces and complaints come back. */
  readonly bounceAddress?: string
}

export type ComposeResult =
  | { readonly ok: true; readonly message: OutgoingMessage }
  | { readonly ok: false; readonly reason: string; readonly error: TemplateError }

/** Renders the template for this member; the journey step's from / reply-to / plain text win. */
export function composeMessage(input: ComposeInput): ComposeResult {
  const m = input.message
  const event = eventOf(m.payload['event'])
  const prepared = prepareMessage({
    template: input.template,
    context: {
      profile: {
        id: m.profileId,
        user_id: input.profile.userId,
        email: input.to.email ?? null,
        timezone: input.profile.timezone,
        traits: input.profile.traits,
      },
      ...(event ? { event } : {}),
      ...(m.journeyId
        ? {
            journey: {
              id: m.journeyId,
              ...(str(m.payload['journeyName']) ? { name: str(m.payload['journeyName']) as string } : {}),
              ...(m.stepId ? { step: m.stepId } : {}),
            },
          }
        : {}),
      workspace: input.workspace,
    },
    messageId: m.messageId,
    idempotencyKey: m.messageId,
    to: input.to,
    meta: {
      workspaceId: m.workspaceId,
      profileId: m.profileId,
      ...(m.journeyId ? { journeyId: m.journeyId } : {}),
      ...(m.runId ? { runId: m.runId } : {}),
      ...(m.stepId ? { stepId: m.stepId } : {}),
    },
    links: input.links,
    now: input.now,
    ...(input.replyAddress ? { replyTo: input.replyAddress } : {}),
  })
  if (!prepared.ok) return { ok: false, reason: prepared.error.message, error: prepared.error }
  const out = prepared.message
  if (!out.email) return prepared
  const from = str(m.payload['from'])
  const replyTo = str(m.payload['replyTo'])
  const plain = m.payload['plainText'] === true
  const { html: _html, ...textOnly } = out.content
  return {
    ok: true,
    message: {
      ...out,
      content: plain ? textOnly : out.content,
      email: {
        ...out.email,
        ...(from ? { from } : {}),
        ...(replyTo ? { replyTo } : {}),
        ...(input.bounceAddress ? { bounceAddress: input.bounceAddress } : {}),
      },
    },
  }
}
