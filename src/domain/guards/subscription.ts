// Guard 2: the member's subscription preferences, topics × channels.
// Among the preferences that cover this topic and channel ('*' covers all), the most
// recent choice wins (a later "unsubscribe from all email" beats an older "yes to tips",
// and a later "yes to tips" beats an older "no email"); on the same instant the more
// specific one wins, then the unsubscribe. No preference = subscribed, except for topics
// the policy lists in requireOptIn, which need a "yes" that names the topic.
// Transactional messages do not depend on preferences.
import type { Guard } from './context.ts'
import type { SubscriptionPreference, SuppressionReason } from './types.ts'

const specificity = (p: SubscriptionPreference) => (p.topic === '*' ? 0 : 2) + (p.channel === '*' ? 0 : 1)

/** The preference in force: latest first, then most specific, then unsubscribed. */
function latest(prefs: readonly SubscriptionPreference[]): SubscriptionPreference | undefined {
  return [...prefs].sort(
    (a, b) =>
      b.updatedAt.getTime() - a.updatedAt.getTime() ||
      specificity(b) - specificity(a) ||
      Number(a.subscribed) - Number(b.subscribed),
  )[0]
}

/**
 * The preference deciding `topic` on `channel` as this guard reads it, or undefined when
 * the member never chose (subscribed by default). The preferences page shows the same.
 */
export function preferenceInForce(
  prefs: readonly SubscriptionPreference[],
  topic: string | null,
  channel: string,
): SubscriptionPreference | undefined {
  return latest(
    prefs.filter(
      (p) => (p.topic === '*' || p.topic === topic) && (p.channel === '*' || p.channel === channel),
    ),
  )
}

function reasonOf(p: SubscriptionPreference): SuppressionReason {
  if (p.topic !== '*') return 'unsubscribed_topic'
  if (p.channel !== '*') return 'unsubscribed_channel'
  return 'unsubscribed'
}

function describe(p: SubscriptionPreference): string {
  const topic = p.topic === '*' ? 'every topic' : `topic "${p.topic}"`
  const channel = p.channel === '*' ? 'every channel' : p.channel
  return `${topic} on ${channel} (${p.updatedAt.toISOString().slice(0, 10)})`
}

export const subscriptionGuard: Guard = ({ request, state, policy }) => {
  const topicText = request.topic === null ? 'no topic' : `topic "${request.topic}"`
  if (request.transactional) {
    return {
      verdict: {
        guard: 'subscription',
        result: 'exempt',
        message: 'transactional: sent whatever the subscription preferences',
      },
    }
  }
  const covering = state.preferences.filter(
    (p) =>
      (p.topic === '*' || p.topic === request.topic) && (p.channel === '*' || p.channel === request.channel),
  )
  const inForce = latest(covering)
  if (inForce && !inForce.subscribed) {
    return {
      verdict: {
        guard: 'subscription',
        result: 'blocked',
        message: `suppressed: unsubscribed from ${describe(inForce)}`,
      },
      outcome: { outcome: 'suppressed', reason: reasonOf(inForce) },
    }
  }
  if (request.topic !== null && policy.subscriptions.requireOptIn.includes(request.topic)) {
    const consent = latest(covering.filter((p) => p.topic === request.topic))
    if (!consent?.subscribed) {
      return {
        verdict: {
          guard: 'subscription',
          result: 'blocked',
          message: `suppressed: ${topicText} needs an opt-in on ${request.channel} and the member has not opted in`,
        },
        outcome: { outcome: 'suppressed', reason: 'not_opted_in' },
      }
    }
    return {
      verdict: {
        guard: 'subscription',
        result: 'passed',
        message: `passed subscription check: opted in to ${describe(consent)}`,
      },
    }
  }
  return {
    verdict: {
      guard: 'subscription',
      result: 'passed',
      message: inForce
        ? `passed subscription check: subscribed to ${describe(inForce)}`
        : `passed subscription check: ${topicText} on ${request.channel}, no preference recorded (subscribed by default)`,
    },
  }
}
