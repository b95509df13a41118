// A template is the content of one message on one channel, written in Liquid. The same
// shape comes from a YAML file, the admin API, or the UI.

export const TEMPLATE_CHANNELS = ['email', 'sms', 'push', 'in_app', 'webhook'] as const
export type TemplateChannel = (typeof TEMPLATE_CHANNELS)[number]

/** The parts a template may have; every one is Liquid source. */
export const PART_NAMES = ['subject', 'text', 'html', 'url'] as const
export type PartName = (typeof PART_NAMES)[number]

export interface TemplateDefinition {
  /** Lower-case, digits and dashes; the file name without its extension. */
  readonly name: string
  readonly channel: TemplateChannel
  readonly category: 'marketing' | 'transactional'
  /** Subscription topic; unsubscribing from it stops this template's messages. */
  readonly topic?: string
  readonly description?: string
  /** Email only: a person rather than the workspace default, e.g. for a feedback ask. */
  readonly from?: string
  readonly replyTo?: string
  /** Email subject; push and in-app title. */
  readonly subject?: string
  /** Plain text; generated from `html` when absent. Push and SMS body. */
  readonly text?: string
  readonly html?: string
  /** Where a push or in-app message leads when tapped. */
  readonly url?: string
}

/** What a template can read. Missing variables are errors unless `| default:` is given. */
export interface TemplateContext {
  readonly profile: {
    readonly id: string
    readonly user_id?: string | null
    readonly email?: string | null
    readonly timezone?: string | null
    readonly traits: Readonly<Record<string, unknown>>
  }
  /** The event that triggered the journey, when there is one. */
  readonly event?: {
    readonly name?: string | null
    readonly type?: string
    readonly timestamp?: string
    readonly properties: Readonly<Record<string, unknown>>
  }
  readonly journey?: { readonly id: string; readonly name?: string; readonly step?: string }
  readonly workspace?: { readonly id: string; readonly name?: string }
  /** Signed links made for this message: unsubscribe, preferences, and any others. */
  readonly links: Readonly<Record<string, string>>
}

/** Rendered parts: what a channel sends. `text` is always there. */
export interface RenderedParts {
  readonly subject?: string
  readonly text: string
  readonly html?: string
  readonly url?: string
}

export interface TemplateError {
  readonly template: string
  readonly part?: PartName
  /** The variable that was missing, e.g. "profile.traits.first_name". */
  readonly variable?: string
  readonly line?: number
  readonly message: string
}

export type RenderResult =
  | { readonly ok: true; readonly parts: RenderedParts }
  | { readonly ok: false; readonly error: TemplateError }
