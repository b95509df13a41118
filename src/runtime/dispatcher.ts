// The dispatcher: outbox → guards → channel → delivery result → events log. It claims due
// messages in batches (leases, so several workers share the table and a dead worker's
// messages are taken over), decides each under a lock on its member, renders it, hands
// it to its channel with the message id as idempotency key, and records what happened.
import type { ChannelSender, OutgoingMessage, SendResult } from '../channels/types.ts'
import type { Clock } from '../domain/clock.ts'
import { decide, historyHorizon } from '../domain/guards/decide.ts'
import { dedupeKeyOf } from '../domain/guards/dedupe.ts'
import { nextAction, statusOf, summarize } from '../domain/guards/outcome.ts'
import type { ChannelRate } from '../domain/guards/policy.ts'
import { emissionInterval, slotsFromTat } from '../domain/guards/rate-limit.ts'
import type { Channel, GuardState, SendRequest } from '../domain/guards/types.ts'
import { formatLocal } from '../domain/guards/zoned-time.ts'
import { DEFAULT_RETRY_POLICY, decideRetry, type RetryPolicy } from '../domain/messages/retry.ts'
import type { CompiledTemplate } from '../domain/templates/render.ts'
import type { Logger } from '../log.ts'
import { bounceAddressFor } from '../store/bounce-handles.ts'
import type { Db, Tx } from '../store/db.ts'
import { type EventIdentity, notifyEvents } from '../store/events.ts'
import { type GuardStateQuery, loadGuardStates } from '../store/guard-state.ts'
import {
  type ClaimLimit,
  type ClaimOptions,
  claimDueMessages,
  type MessageDecision,
  type MessageStatus,
  messageKey,
  nextMessageAt,
  OUTBOX_CHANNEL,
  type QueuedMessage,
  recordDecisions,
  releaseMessages,
  settleMessage,
  settleMessages,
} from '../store/messages.ts'
import { lockRecipients, type RecipientProfile } from '../store/profiles/recipient.ts'
import { pushSubscriptionsOf, removePushSubscription } from '../store/push-subscriptions.ts'
import { reserveRateSlots } from '../store/rate-limits.ts'
import { replyToAddress } from '../store/replies.ts'
import { recordChannelSuppression, type Suppression } from '../store/suppressions.ts'
import { type ChannelPool, withDeliveryReports } from './dispatch/channel-pool.ts'
import {
  composeMessage,
  isChannel,
  makeTemplateCache,
  recipientOf,
  sendRequestOf,
} from './dispatch/compose.ts'
import { type MessageOutcome, type OutcomeToRecord, recordOutcomes } from './dispatch/record.ts'
import { makeSettler } from './dispatch/settler.ts'
import { loadWorkspaces, type WorkspaceContext } from './dispatch/workspace.ts'
import { makeLoop } from './loop.ts'

export interface DispatcherOptions {
  readonly db: Db
  readonly clock: Clock
  readonly log: Logger
  readonly workerId: string
  readonly channels: ChannelPool
  /** Public URL of this Nudge: unsubscribe, preferences and tracking links point under it. */
  readonly publicUrl: string
  /**
   * Domain of the inbound listener; when set, email gets a reply+<handle>@domain Reply-To and
   * the envelope sender bounce+<handle>@domain, where delivery reports come back.
   */
  readonly inboundDomain?: string
  readonly retry?: RetryPolicy
  /** In [0, 1), for the retry jitter; injected so tests are deterministic. */
  readonly random?: () => number
  readonly batchSize?: number
  readonly leaseMs?: number
  /** Messages of different profiles handled at once. */
  readonly concurrency?: number
  /** First messages of profiles decided (guards, rendering) together; default `concurrency`. */
  readonly decideChunk?: number
  readonly maxSleepMs?: number
  /** A rate-limit slot further away than this is waited for in the queue, not in memory. */
  readonly maxRateWaitMs?: number
}

export interface Dispatcher {
  start(): Promise<void>
  stop(): Promise<void>
  /** Dispatches every message due at clock.now() until none is left; returns how many were handled. */
  drain(): Promise<number>
  /** When this dispatcher's next claim may find something (the rate limits it knows applied). */
  nextAt(): Promise<Date | null>
}

type Plan =
  | { readonly deliver: false }
  | {
      readonly deliver: true
      readonly sender: ChannelSender
      readonly message: OutgoingMessage
      readonly email: string | undefined
      /** The identity the message's delivery event carries. */
      readonly identity: EventIdentity | undefined
    }

const NOTHING: Plan = { deliver: false }

/** The identity a recipient's events carry: its userId, else its first anonymousId. */
function identityOf(profile: RecipientProfile): EventIdentity | undefined {
  if (profile.userId) return { userId: profile.userId, anonymousId: null }
  const anonymousId = profile.anonymousIds[0]
  return anonymousId ? { userId: null, anonymousId } : undefined
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined)

export function makeDispatcher(opts: DispatcherOptions): Dispatcher {
  const { db, clock, log, workerId, channels } = opts
  const batchSize = opts.batchSize ?? 200
  const leaseMs = opts.leaseMs ?? 60_000
  const concurrency = opts.concurrency ?? (db.isShared ? 16 : 8)
  const decideChunk = opts.decideChunk ?? concurrency
  // Short: a pass waits for its lanes, and a lane sleeping for a far slot would hold back
  // the next claim, and with it the messages of every other channel.
  const maxRateWaitMs = opts.maxRateWaitMs ?? 250
  // A held rate-limit slot missed by more than the channel's burst window (at least 1 s: the
  // workers were stopped, or a pass was held up by a slow channel) is given up for a new one,
  // so late messages never leave more than a burst ahead of the rate.
  const heldSlotGraceMs = (rate: ChannelRate) => Math.max(1_000, rate.burst * emissionInterval(rate))
  // How long a decision made with the batch stays good enough to send on.
  const freshMs = Math.min(5_000, leaseMs / 4)
  const retry = opts.retry ?? DEFAULT_RETRY_POLICY
  const random = opts.random ?? Math.random
  const templates = makeTemplateCache()
  const abort = new AbortController()
  const settler = makeSettler(db)

  // One NOTIFY in flight at a time: callers arriving meanwhile share one more, sent after
  // the one in flight (so after their commits).
  let inFlight: Promise<void> | undefined
  let queued: Promise<void> | undefined
  function wakeProcessors(): Promise<void> {
    if (!inFlight) {
      inFlight = notifyEvents(db).finally(() => {
        inFlight = undefined
      })
      return inFlight
    }
    queued ??= inFlight.then(() => {
      queued = undefined
      return wakeProcessors()
    })
    return queued
  }

  /**
   * The guards' decisions and, for sends, the rendered messages, for messages of distinct
   * profiles, written in `tx` with one statement per kind of read and write: the recipients
   * locked, their guard states, the decisions and the outcomes of those not sent. Answers
   * the plan of each message by messageKey.
   */
  async function decideMany(
    tx: Tx,
    list: readonly QueuedMessage[],
    workspaces: ReadonlyMap<string, WorkspaceContext>,
    now: Date,
  ): Promise<Map<string, Plan>> {
    const plans = new Map<string, Plan>()
    const outcomes: OutcomeToRecord[] = []
    const decisions: Array<{ message: QueuedMessage; decision: MessageDecision }> = []
    const done = (m: QueuedMessage, o: MessageOutcome) => {
      outcomes.push({ message: m, outcome: o, now })
      plans.set(messageKey(m), NOTHING)
    }
    // The guards see each profile's state once: two messages of one profile need two calls.
    const profiles = new Set(list.map((m) => `${m.workspaceId}\u0000${m.profileId}`))
    if (profiles.size !== list.length) throw new Error('decideMany: two messages of one profile in one call')
    const recipients = await lockRecipients(tx, list)
    // 1. What each message needs before the guards: its profile and its compiled template.
    const ready: Array<{
      m: QueuedMessage
      ws: WorkspaceContext
      channel: Channel
      profile: RecipientProfile
      compiled: CompiledTemplate
      request: SendRequest
      email: string | undefined
    }> = []
    const queries: GuardStateQuery[] = []
    for (const m of list) {
      const ws = workspaces.get(m.workspaceId)
      if (!ws) continue
      const channel = m.channel
      if (!isChannel(channel)) {
        done(m, { status: 'failed', reason: `unknown channel "${channel}"`, event: 'failed' })
        continue
      }
      const profile = recipients.get(`${m.workspaceId}\u0000${m.profileId}`)
      if (!profile) {
        done(m, { status: 'suppressed', reason: 'the profile no longer exists' })
        continue
      }
      const compiled = templates(m.workspaceId, m.template, ws.templates.get(m.template))
      if (!compiled.ok) {
        done(m, { status: 'failed', reason: compiled.reason, event: 'failed' })
        continue
      }
      const def = compiled.template.definition
      if (def.channel !== channel) {
        done(m, {
          status: 'failed',
          reason: `the template "${def.name}" is for ${def.channel}, the message goes by ${channel}`,
          event: 'failed',
        })
        continue
      }
      const request = sendRequestOf(m, channel, def, profile)
      const email = str(profile.traits['email'])
      const phone = str(profile.traits['phone'])
      const identities: Suppression[] = [
        ...(profile.userId ? [{ kind: 'user_id' as const, value: profile.userId }] : []),
        ...profile.anonymousIds.map((value) => ({ kind: 'anonymous_id' as const, value })),
        ...(email ? [{ kind: 'email' as const, value: email }] : []),
        ...(phone ? [{ kind: 'phone' as const, value: phone }] : []),
      ]
      ready.push({ m, ws, channel, profile, compiled: compiled.template, request, email })
      queries.push({
        workspaceId: m.workspaceId,
        profileId: m.profileId,
        identities,
        since: historyHorizon(request, ws.policy, now),
      })
    }
    // 2. The guards, each message against its profile's state.
    const states = await loadGuardStates(tx, queries)
    const delivering: Array<{ m: QueuedMessage; plan: Plan }> = []
    for (const [i, { m, ws, channel, profile, compiled, request, email }] of ready.entries()) {
      const decision = decide(request, states[i] as GuardState, ws.policy, now)
      const { verdicts } = decision
      const reason = summarize(decision)
      const classified = {
        at: now,
        category: request.category,
        topic: request.topic,
        transactional: request.transactional,
        dedupeKey: dedupeKeyOf(request),
        verdicts,
      }
      const action = nextAction(decision)
      switch (action.action) {
        case 'discard':
          done(m, { status: statusOf(decision) as MessageStatus, reason, verdicts })
          continue
        case 'retry':
          // Pending: it holds its dedupe key while it waits, and is decided again at `at`.
          decisions.push({ message: m, decision: classified })
          done(m, { status: 'queued', reason, verdicts, notBefore: action.at })
          continue
        case 'deliver':
          break
        default: {
          const never: never = action
          return never
        }
      }
      const stored = withDeliveryReports(channel, ws.channelConfigs.get(channel), opts.publicUrl, ws.id)
      const opened = channels.get(m.workspaceId, channel, stored)
      if (!opened.ok) {
        done(m, { status: 'failed', reason: opened.reason, verdicts, event: 'failed' })
        continue
      }
      const push =
        channel === 'push' ? (await pushSubscriptionsOf(tx, m.workspaceId, m.profileId))[0] : undefined
      const replyAddress =
        channel === 'email' && opts.inboundDomain
          ? await replyToAddress(tx, m, opts.inboundDomain, now)
          : undefined
      const bounceAddress =
        channel === 'email' && opts.inboundDomain
          ? await bounceAddressFor(tx, { ...m, address: email }, opts.inboundDomain, now)
          : undefined
      const composed = composeMessage({
        message: m,
        template: compiled,
        profile,
        workspace: { id: ws.id, name: ws.name },
        to: recipientOf(profile, push),
        links: { baseUrl: opts.publicUrl, secret: ws.secret },
        now,
        ...(replyAddress ? { replyAddress } : {}),
        ...(bounceAddress ? { bounceAddress } : {}),
      })
      if (!composed.ok) {
        done(m, { status: 'failed', reason: composed.reason, verdicts, event: 'failed' })
        continue
      }
      decisions.push({ message: m, decision: classified })
      delivering.push({
        m,
        plan: {
          deliver: true,
          sender: opened.channel,
          message: composed.message,
          email,
          identity: identityOf(profile),
        },
      })
    }
    // 3. The writes: decisions first (a message deferred holds its key), then outcomes.
    const decided = await recordDecisions(tx, decisions)
    await recordOutcomes(tx, outcomes)
    // A message whose lease was lost meanwhile is another worker's now.
    for (const { m, plan } of delivering)
      plans.set(messageKey(m), decided.has(messageKey(m)) ? plan : NOTHING)
    return plans
  }

  /** Back in the queue until its rate-limit slot, which it holds (it is not reserved again). */
  function rateLimited(m: QueuedMessage, rate: ChannelRate, at: number): MessageOutcome {
    return {
      status: 'queued',
      reason: `rate limited: ${m.channel} at most ${rate.perSecond}/s, next slot ${new Date(at).toISOString()}`,
      notBefore: new Date(at),
      rateSlot: new Date(at),
    }
  }

  /**
   * The rate-limit slot of each claimed message on a limited channel: the one it holds, or
   * one reserved now, for all of a channel's messages in one statement. A message whose
   * slot is further than maxRateWaitMs away goes back to the queue until then, holding it,
   * without being decided (its guards run when it is sent): a backlog on a limited channel
   * costs a batch one reservation and one deferral, not a decision and a transaction per
   * message. Answers the slots and the keys of the messages deferred.
   */
  async function rateSlots(
    claimed: readonly QueuedMessage[],
    workspaces: ReadonlyMap<string, WorkspaceContext>,
    now: Date,
  ): Promise<{ slots: Map<string, number>; deferred: Set<string> }> {
    const nowMs = now.getTime()
    const slots = new Map<string, number>()
    const rates = new Map<string, ChannelRate>()
    const groups = new Map<string, QueuedMessage[]>()
    for (const m of claimed) {
      const limits: Readonly<Record<string, ChannelRate | null | undefined>> | undefined = workspaces.get(
        m.workspaceId,
      )?.policy.rateLimits
      const rate = limits?.[m.channel]
      if (!rate) continue
      const group = `${m.workspaceId}\u0000${m.channel}`
      rates.set(group, rate)
      const held = m.rateSlotAt?.getTime()
      if (held !== undefined && held >= nowMs - heldSlotGraceMs(rate)) slots.set(messageKey(m), held)
      else {
        const list = groups.get(group)
        if (list) list.push(m)
        else groups.set(group, [m])
      }
    }
    for (const [group, list] of groups) {
      const rate = rates.get(group) as ChannelRate
      const first = list[0] as QueuedMessage
      const tat = await reserveRateSlots(db, first.workspaceId, first.channel, rate, nowMs, list.length)
      const at = slotsFromTat(tat, rate, nowMs, list.length)
      for (const [i, m] of list.entries()) slots.set(messageKey(m), at[i] ?? nowMs)
    }
    const later: OutcomeToRecord[] = []
    for (const m of claimed) {
      const at = slots.get(messageKey(m))
      const rate = rates.get(`${m.workspaceId}\u0000${m.channel}`)
      if (at !== undefined && rate && at - nowMs > maxRateWaitMs)
        later.push({ message: m, outcome: rateLimited(m, rate, at), now })
    }
    // One whose lease was lost meanwhile is not settled here, and is not this worker's to send either.
    await recordOutcomes(db, later)
    return { slots, deferred: new Set(later.map((l) => messageKey(l.message))) }
  }

  function outcomeOf(m: QueuedMessage, result: SendResult, now: Date): MessageOutcome {
    if (result.ok) {
      return {
        status: 'sent',
        reason: `handed to ${m.channel}${result.detail ? ` (${result.detail.slice(0, 200)})` : ''}`,
        providerId: result.providerId,
        countAttempt: true,
        event: 'sent',
      }
    }
    const attempt = m.attempts + 1
    const next = decideRetry(result, attempt, retry, random)
    switch (next.action) {
      case 'retry': {
        const at = new Date(now.getTime() + next.delayMs)
        return {
          status: 'queued',
          reason: `attempt ${attempt} failed (${result.reason}), retried at ${formatLocal(at.getTime(), 'UTC')} UTC`,
          error: result.reason,
          notBefore: at,
          countAttempt: true,
        }
      }
      case 'dead-letter':
        return {
          status: 'failed',
          reason: next.reason,
          error: result.reason,
          countAttempt: true,
          event: 'failed',
        }
      case 'fail': {
        const bounced = result.bounce === 'hard'
        return {
          status: bounced ? 'bounced' : 'failed',
          reason: next.reason,
          error: result.reason,
          countAttempt: true,
          event: bounced ? 'bounced' : 'failed',
        }
      }
      default: {
        const never: never = next
        return never
      }
    }
  }

  /**
   * Sends a decided message, at its rate-limit slot when it has one (rateSlots gave every
   * message of a limited channel one, at most maxRateWaitMs away), and records the result.
   */
  async function deliver(m: QueuedMessage, plan: Plan, slot?: number): Promise<void> {
    if (!plan.deliver) return
    const waitMs = slot === undefined ? 0 : slot - clock.now().getTime()
    if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs))
    const result = await plan.sender.send(plan.message, { signal: abort.signal })
    const now = clock.now()
    const outcome = outcomeOf(m, result, now)
    if (result.ok) {
      await settler.settle({ message: m, outcome, now, identity: plan.identity })
      return
    }
    await settler.settle({ message: m, outcome, now, identity: plan.identity }, async (tx, settled) => {
      if (!settled) return
      if (result.bounce === 'hard' && plan.email && m.channel === 'email') {
        await recordChannelSuppression(
          tx,
          m.workspaceId,
          { kind: 'email', value: plan.email },
          'email',
          'hard_bounce',
          now,
        )
      }
      const endpoint = plan.message.to.pushSubscription?.endpoint
      if (result.expired && endpoint) await removePushSubscription(tx, m.workspaceId, endpoint)
    })
  }

  /**
   * Decides (unless `decided` holds a fresh plan for it), sends and records one message.
   * A plan decided with the batch is used only while fresh: a lane may reach its message
   * long after (slow channels, rate limits), when its lease may have passed to another
   * worker or the member may have unsubscribed; then it is decided again, alone, which
   * also checks the lease. `slot` is its rate-limit slot, when it holds one.
   */
  async function safely(
    m: QueuedMessage,
    workspaces: ReadonlyMap<string, WorkspaceContext>,
    decided?: { readonly plans: ReadonlyMap<string, Plan>; readonly at: number },
    slot?: number,
  ): Promise<void> {
    try {
      if (!workspaces.has(m.workspaceId)) {
        await settleMessage(db, m, {
          status: 'failed',
          at: clock.now(),
          error: 'the workspace no longer exists',
        })
        return
      }
      // A batch's outcome that is no send was written with the batch: nothing more to do.
      const batchPlan = decided?.plans.get(messageKey(m))
      const fresh = decided !== undefined && clock.now().getTime() - decided.at < freshMs
      let plan = batchPlan && (!batchPlan.deliver || fresh) ? batchPlan : undefined
      if (!plan) {
        const now = clock.now()
        plan = (await db.transaction((tx) => decideMany(tx, [m], workspaces, now))).get(messageKey(m))
      }
      if (plan?.deliver) await deliver(m, plan, slot)
      // An outcome decided without a send was written with its event but without NOTIFY (see
      // recordOutcome): wake the processors. A delivery's settle wakes them itself.
      else await wakeProcessors()
    } catch (err) {
      // A bug or a database hiccup: keep the message, look again in a while.
      log.error({ err, messageId: m.messageId }, 'dispatching a message failed')
      const at = new Date(clock.now().getTime() + 30_000)
      await settleMessage(db, m, {
        status: 'queued',
        at: clock.now(),
        notBefore: at,
        error: String(err),
        reason: `dispatching it failed (${String(err).slice(0, 200)}), tried again at ${at.toISOString()}`,
      }).catch(() => {})
    }
  }

  // The rate limits of the workspaces met so far, by workspace: a claim takes no more of a
  // limited channel's messages than its slots let go within maxRateWaitMs. A limit changed
  // applies from the next claim that meets the workspace (until then, the old limit only
  // sizes the claim: the slots are reserved with the new one).
  const knownLimits = new Map<string, readonly ClaimLimit[]>()
  const claimOptions = (): ClaimOptions => ({
    limits: [...knownLimits.values()].flat(),
    maxWaitMs: maxRateWaitMs,
  })
  function learnLimits(workspaces: ReadonlyMap<string, WorkspaceContext>): void {
    for (const ws of workspaces.values()) {
      const limits: ClaimLimit[] = []
      for (const [channel, rate] of Object.entries(ws.policy.rateLimits))
        if (rate) limits.push({ workspaceId: ws.id, channel, ...rate })
      if (limits.length > 0) knownLimits.set(ws.id, limits)
      else knownLimits.delete(ws.id)
    }
  }

  function nextAt(): Promise<Date | null> {
    return nextMessageAt(db, clock.now(), claimOptions())
  }

  async function pass(): Promise<number> {
    const claimed = await claimDueMessages(db, workerId, clock.now(), batchSize, leaseMs, {
      ...claimOptions(),
      onLimitsFailed: (err) =>
        log.warn({ err }, 'claiming by channel budget failed; claimed without the rate limits'),
    })
    if (claimed.length === 0) return 0
    const names = new Map<string, Set<string>>()
    for (const m of claimed) names.set(m.workspaceId, (names.get(m.workspaceId) ?? new Set()).add(m.template))
    const workspaces = await loadWorkspaces(db, names)
    learnLimits(workspaces)
    for (const ws of workspaces.values()) {
      if (ws.policyProblem) {
        log.warn(
          { workspaceId: ws.id, problem: ws.policyProblem },
          'invalid guard policy ignored: safe defaults apply',
        )
      }
    }
    let taken: Awaited<ReturnType<typeof rateSlots>>
    try {
      taken = await rateSlots(claimed, workspaces, clock.now())
    } catch (err) {
      // Without their slots they must not go: back to the queue for a while, not left
      // claimed until their lease runs out.
      log.error({ err }, 'reserving rate-limit slots failed; the batch is put back in the queue')
      const now = clock.now()
      const at = new Date(now.getTime() + 30_000)
      await settleMessages(
        db,
        claimed.map((m) => ({
          message: m,
          update: {
            status: 'queued',
            at: now,
            notBefore: at,
            error: String(err),
            reason: `reserving its rate-limit slot failed, tried again at ${at.toISOString()}`,
          },
        })),
      ).catch(() => {})
      return claimed.length
    }
    const { slots, deferred } = taken
    // One profile's messages in order, one after the other; profiles side by side.
    const lanes = new Map<string, QueuedMessage[]>()
    for (const m of claimed) {
      if (deferred.has(messageKey(m))) continue
      const k = `${m.workspaceId}/${m.profileId}`
      const lane = lanes.get(k)
      if (lane) lane.push(m)
      else lanes.set(k, [m])
    }
    // The first messages of the profiles are decided a chunk at a time, in one transaction
    // per chunk, when a lane first reaches the chunk: a batch paced by a rate limit is
    // rendered as it is sent, not all at its start (rendering is CPU work on the event loop
    // that ingest and the processor share), and a plan is fresh when it is used. A profile's
    // next messages are each decided after the one before it was sent (their guards must
    // count it).
    const queue = [...lanes.values()]
    const chunks = new Map<number, Promise<{ plans: Map<string, Plan>; at: number } | undefined>>()
    const decidedFor = (index: number) => {
      const c = Math.floor(index / decideChunk)
      let chunk = chunks.get(c)
      if (!chunk) {
        const at = clock.now()
        const heads = queue
          .slice(c * decideChunk, (c + 1) * decideChunk)
          .map((lane) => lane[0] as QueuedMessage)
          .filter((m) => workspaces.has(m.workspaceId))
        chunk = db
          .transaction((tx) => decideMany(tx, heads, workspaces, at))
          .then((plans) => ({ plans, at: at.getTime() }))
          .catch((err: unknown) => {
            // One message must not hold the others back: decide each alone instead.
            log.warn({ err }, 'deciding a batch of messages failed; deciding them one by one')
            return undefined
          })
        chunks.set(c, chunk)
      }
      return chunk
    }
    let next = 0
    const worker = async () => {
      for (let k = next++; k < queue.length; k = next++) {
        const lane = queue[k] as QueuedMessage[]
        const decided = await decidedFor(k)
        for (const [i, m] of lane.entries())
          await safely(m, workspaces, i === 0 ? decided : undefined, slots.get(messageKey(m)))
      }
    }
    await Promise.all(Array.from({ length: Math.min(concurrency, queue.length) }, worker))
    return claimed.length
  }

  const loop = makeLoop({
    name: 'dispatcher',
    db,
    clock,
    log,
    channel: OUTBOX_CHANNEL,
    pass,
    nextAt: () => nextAt(),
    maxSleepMs: opts.maxSleepMs ?? 5_000,
  })

  return {
    nextAt,
    start: () => loop.start(),
    async stop() {
      // Sends in flight get a moment to finish; then they are cut off (and retried later).
      const cut = setTimeout(() => abort.abort(), 5_000)
      await loop.stop()
      clearTimeout(cut)
      await releaseMessages(db, workerId).catch(() => {})
    },
    async drain() {
      let total = 0
      for (let n = await pass(); n > 0; n = await pass()) total += n
      return total
    },
  }
}
