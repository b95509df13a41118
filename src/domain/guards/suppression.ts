// Guard 1: the suppression list. Rules (docs/guards.md, "Suppression"):
// - erased: never contact, any channel, transactional included;
// - hard_bounce: the address does not exist; blocks its channel, transactional included;
// - complaint: the member reported spam; blocks non-transactional messages on its channel;
// - unsubscribed: a list-wide unsubscribe; blocks non-transactional messages on its channel.
import type { Guard } from './context.ts'
import type { Suppression, SuppressionKind } from './types.ts'

const SEVERITY: readonly SuppressionKind[] = ['erased', 'hard_bounce', 'complaint', 'unsubscribed']
const BLOCKS_TRANSACTIONAL: Readonly<Record<SuppressionKind, boolean>> = {
  erased: true,
  hard_bounce: true,
  complaint: false,
  unsubscribed: false,
}
const WORDS: Readonly<Record<SuppressionKind, string>> = {
  erased: 'the profile was erased',
  hard_bounce: 'the address hard-bounced',
  complaint: 'the member reported a message as spam',
  unsubscribed: 'the member unsubscribed',
}

export const suppressionGuard: Guard = ({ request, state }) => {
  const applies = (s: Suppression) =>
    s.kind === 'erased' || s.channel === null || s.channel === request.channel
  const matching = state.suppressions.filter(applies)
  const blocking = matching
    .filter((s) => !request.transactional || BLOCKS_TRANSACTIONAL[s.kind])
    .sort((a, b) => SEVERITY.indexOf(a.kind) - SEVERITY.indexOf(b.kind))
  const first = blocking[0]
  if (first) {
    const since = first.at.toISOString().slice(0, 10)
    const scope = first.kind === 'erased' || first.channel === null ? 'every channel' : first.channel
    const why = first.reason ? ` (${first.reason})` : ''
    return {
      verdict: {
        guard: 'suppression',
        result: 'blocked',
        message: `suppressed: ${WORDS[first.kind]} on ${since}${why}; blocks ${scope}${request.transactional ? ', transactional included' : ''}`,
      },
      outcome: { outcome: 'suppressed', reason: first.kind },
    }
  }
  if (matching.length > 0) {
    const kinds = [...new Set(matching.map((s) => s.kind))].join(', ')
    return {
      verdict: {
        guard: 'suppression',
        result: 'exempt',
        message: `passed suppression check: on the list for ${request.channel} (${kinds}), which does not stop transactional messages`,
      },
    }
  }
  return {
    verdict: {
      guard: 'suppression',
      result: 'passed',
      message: `passed suppression check: not on the list for ${request.channel}`,
    },
  }
}
