// The one contract every channel implements: a rendered message with its recipient and
// idempotency key goes in, a delivery result comes out. Expected failures (a bounce, a 500,
// a timeout, bad credentials) are values, never exceptions: the dispatcher decides from
// `kind` whether to retry, dead-letter, or stop using the channel.
import type { Agent as HttpsAgent } from 'node:https'
import type { Clock } from '../domain/clock.ts'
import type { ErrorIssue } from '../domain/errors.ts'
import type { FailureKind } from '../domain/messages/retry.ts'

export const CHANNEL_NAMES = ['email', 'webhook', 'sms', 'push', 'in_app'] as const
export type ChannelName = (typeof CHANNEL_NAMES)[number]

/** Marketing mail carries unsubscribe headers and counts against caps; transactional does not. */
export type MessageCategory = 'marketing' | 'transactional'

/** A Web Push subscription as a browser's PushManager.subscribe() returns it. */
export interface PushSubscription {
  readonly endpoint: string
  readonly keys: { readonly p256dh: string; readonly auth: string }
}

/** Who receives the message; each channel reads the address it needs. */
export interface Recipient {
  readonly profileId: string
  readonly userId?: string
  readonly name?: string
  readonly email?: string
  /** E.164, e.g. +33612345678 */
  readonly phone?: string
  readonly pushSubscription?: PushSubscription
}

/** The rendered parts of a template. Push and in-app use `subject` as the title, `text` as the body. */
export interface MessageContent {
  readonly subject?: string
  readonly text: string
  readonly html?: string
  /** Where a push notification or an in-app message leads when tapped. */
  readonly url?: string
}

/** Where the message comes from, for logs, webhook payloads and the trace. */
export interface MessageMeta {
  readonly workspaceId: string
  readonly profileId: string
  readonly journeyId?: string
  readonly runId?: string
  readonly stepId?: string
  readonly template?: string
  /** Subscription topic (e.g. "newsletter"); unsubscribe links are per topic. */
  readonly topic?: string
}

/** Email-only envelope details, all optional: the channel config supplies defaults. */
export interface EmailOptions {
  /** Overrides the channel's default From, e.g. a person for a plain-text feedback ask. */
  readonly from?: string
  readonly replyTo?: string
  /** The envelope sender (Return-Path) where bounces and complaints come back: bounce+<handle>@<inbound domain>. */
  readonly bounceAddress?: string
  /** RFC 8058 one-click unsubscribe: both become List-Unsubscribe on marketing mail. */
  readonly unsubscribeUrl?: string
  readonly unsubscribeMailto?: string
  readonly headers?: Readonly<Record<string, string>>
}

export interface OutgoingMessage {
  /** Nudge's id of this message (message log row); tracking links point at it. */
  readonly id: string
  /** Stable across retries of the same effect (run, step, attempt-independent). */
  readonly idempotencyKey: string
  readonly category: MessageCategory
  readonly to: Recipient
  readonly content: MessageContent
  readonly meta: MessageMeta
  readonly email?: EmailOptions
  /** Extra structured data a webhook or push payload carries as is. */
  readonly data?: Readonly<Record<string, unknown>>
}

export type SendSuccess = {
  readonly ok: true
  /** The id the provider gave the message (SMTP Message-ID, Twilio SID, ...). */
  readonly providerId: string
  readonly detail?: string
}

export type { FailureKind }

export type SendFailure = {
  readonly ok: false
  readonly kind: FailureKind
  readonly reason: string
  /** The peer asked us to wait at least this long (HTTP Retry-After). */
  readonly retryAfterMs?: number
  /** A hard bounce: the address should go on the suppression list. */
  readonly bounce?: 'hard'
  /** The push subscription is gone (404/410): the caller removes it. */
  readonly expired?: true
  /** Status or reply code of the peer, for the message log. */
  readonly status?: number
}

export type SendResult = SendSuccess | SendFailure

export interface SendContext {
  /** Aborts the send (shutdown); an aborted send ends as retryable. */
  readonly signal?: AbortSignal
}

/** An in-app message as the in_app channel stores it for the widget to fetch. */
export interface InAppDelivery {
  readonly workspaceId: string
  readonly profileId: string
  /** The message log's id: storing the same message twice keeps one. */
  readonly messageId: string
  readonly kind: 'inbox' | 'banner' | 'modal' | 'fullscreen'
  readonly title: string | null
  readonly body: string
  readonly url: string | null
  readonly createdAt: Date
}

/** Where in-app messages are kept (the database); the runtime passes the store's. */
export interface InAppInbox {
  deliver(message: InAppDelivery): Promise<{ readonly created: boolean }>
}

export interface ChannelDeps {
  readonly clock: Clock
  /** Root of local files (the embedded mailbox lives under it). */
  readonly dataDir: string
  /** HTTP client; tests and proxies may swap it. Defaults to the global fetch. */
  readonly fetch?: typeof fetch
  /** For Web Push, which speaks node:https itself: a proxy or a private CA goes here. */
  readonly httpsAgent?: HttpsAgent
  /** Required by the in_app channel. */
  readonly inAppInbox?: InAppInbox
}

/** An opened channel: holds connections (SMTP pool) until closed. */
export interface ChannelSender {
  readonly name: ChannelName
  send(message: OutgoingMessage, ctx?: SendContext): Promise<SendResult>
  close(): Promise<void>
}

export type ConfigResult<C> =
  | { readonly ok: true; readonly config: C }
  | { readonly ok: false; readonly issues: readonly ErrorIssue[] }

export interface ChannelModule<C> {
  readonly name: ChannelName
  /** Checks a raw config (env, config file, admin API) and fills defaults. */
  validateConfig(raw: unknown): ConfigResult<C>
  open(config: C, deps: ChannelDeps): ChannelSender
}

export function failure(
  kind: FailureKind,
  reason: string,
  extra: Omit<SendFailure, 'ok' | 'kind' | 'reason'> = {},
): SendFailure {
  return { ok: false, kind, reason, ...extra }
}
