// Builders for guard tests: a request, a state and history entries with readable defaults.
import type { GuardPolicy, GuardPolicyInput } from '../../../src/domain/guards/policy.ts'
import { parseGuardPolicy } from '../../../src/domain/guards/policy.ts'
import type { GuardState, MessageRecord, SendRequest } from '../../../src/domain/guards/types.ts'

type RequestOverrides = Partial<Omit<SendRequest, 'profile'>> & { timezone?: string | null }

export function request(overrides: RequestOverrides = {}): SendRequest {
  const { timezone = 'Europe/Paris', ...rest } = overrides
  return {
    workspaceId: 'ws_1',
    messageId: 'msg_new',
    profile: { profileId: 'ann', timezone },
    channel: 'email',
    topic: 'tips',
    category: 'marketing',
    transactional: false,
    ...rest,
  }
}

export function state(overrides: Partial<GuardState> = {}): GuardState {
  return { suppressions: [], preferences: [], history: [], ...overrides }
}

let seq = 0
export function sent(at: string, overrides: Partial<MessageRecord> = {}): MessageRecord {
  seq += 1
  return {
    messageId: `msg_${seq}`,
    status: 'sent',
    at: new Date(at),
    channel: 'email',
    category: 'marketing',
    transactional: false,
    dedupeKey: null,
    ...overrides,
  }
}

/** A policy with everything off except what the test turns on. */
export function policy(input: GuardPolicyInput = {}): GuardPolicy {
  return parseGuardPolicy({ caps: [], quietHours: { enabled: false }, ...input })
}
