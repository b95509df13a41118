import { describe, expect, it } from 'vitest'
import {
  bounceAddressOf,
  bounceHandle,
  bounceHandleOfAddress,
} from '../../../src/domain/messages/bounce-address.ts'
import {
  bounceKindOf,
  dsnVerdict,
  feedbackVerdict,
  parseDeliveryStatus,
} from '../../../src/domain/messages/delivery-status.ts'
import { replyHandle } from '../../../src/domain/messages/reply-address.ts'

// Exim's delivery-status part for a refused recipient, folded as Exim folds it.
const EXIM = [
  'Reporting-MTA: dns; mx1.example.org',
  '',
  'Action: failed',
  'Final-Recipient: rfc822;nobody@example.com',
  'Status: 5.0.0',
  'Remote-MTA: dns; mail.example.com',
  'Diagnostic-Code: smtp; 550 5.1.1 <nobody@example.com>: Recipient address rejected:',
  '  User unknown in local recipient table',
  '',
].join('\r\n')

describe('DSN delivery-status parts (RFC 3464)', () => {
  it('reads the per-recipient fields, unfolding continued lines and dropping the address and diagnostic types', () => {
    expect(parseDeliveryStatus(EXIM)).toEqual({
      reportingMta: 'mx1.example.org',
      recipients: [
        {
          action: 'failed',
          status: '5.0.0',
          finalRecipient: 'nobody@example.com',
          originalRecipient: undefined,
          diagnostic:
            '550 5.1.1 <nobody@example.com>: Recipient address rejected: User unknown in local recipient table',
        },
      ],
    })
  })

  it('decides hard and soft bounces from the status, then the diagnostic', () => {
    expect(bounceKindOf('5.1.1', undefined)).toBe('hard')
    expect(bounceKindOf('5.2.1', undefined)).toBe('hard')
    // The mail system, the content or a policy refused this mail: the address is fine.
    expect(bounceKindOf('5.7.1', '550 5.7.1 Message rejected as spam')).toBe('soft')
    expect(bounceKindOf('5.3.4', undefined)).toBe('soft')
    expect(bounceKindOf('4.4.7', undefined)).toBe('soft')
    expect(bounceKindOf(undefined, '550 5.1.1 unknown user')).toBe('hard')
    expect(bounceKindOf(undefined, '550 unknown user')).toBe('hard')
    expect(bounceKindOf(undefined, '452 mailbox full')).toBe('soft')
  })

  it('gives one verdict: the most serious recipient, with the status and diagnostic as its detail', () => {
    expect(dsnVerdict(parseDeliveryStatus(EXIM))).toEqual({
      kind: 'bounced',
      bounce: 'hard',
      status: '5.0.0',
      detail:
        'DSN failed: 5.0.0 550 5.1.1 <nobody@example.com>: Recipient address rejected: User unknown in local recipient table',
    })
    const two =
      'Reporting-MTA: dns; x\n\nAction: delivered\nStatus: 2.0.0\n\nAction: delayed\nStatus: 4.4.1\n'
    expect(dsnVerdict(parseDeliveryStatus(two))).toMatchObject({ kind: 'delayed', status: '4.4.1' })
    expect(dsnVerdict(parseDeliveryStatus('Action: relayed\nStatus: 2.0.0'))).toMatchObject({ kind: 'other' })
    expect(dsnVerdict(parseDeliveryStatus('Reporting-MTA: dns; x\n'))).toBeUndefined()
  })

  it('reads ARF feedback types: abuse is a complaint, a DMARC failure report is not', () => {
    expect(feedbackVerdict('Feedback-Type: abuse\r\nUser-Agent: x\r\nVersion: 1\r\n')).toEqual({
      kind: 'complained',
      feedbackType: 'abuse',
      detail: 'complaint (abuse)',
    })
    expect(feedbackVerdict('Feedback-Type: auth-failure\nVersion: 1\n')).toMatchObject({ kind: 'other' })
    expect(feedbackVerdict('Version: 1\n')).toBeUndefined()
  })
})

describe('bounce addresses', () => {
  const t = { workspaceId: 'club', profileId: '7d0c2b5e-0000-4000-8000-000000000001', messageId: 'run-1:s:0' }
  it('are signed per message, fit a local part, survive case folding, and differ from reply handles', () => {
    const h = bounceHandle('secret-a', t)
    expect(h).toMatch(/^[a-z2-7]{24}$/)
    expect(bounceHandle('secret-a', t)).toBe(h)
    expect(bounceHandle('secret-b', t)).not.toBe(h)
    expect(bounceHandle('secret-a', { ...t, messageId: 'run-1:s:1' })).not.toBe(h)
    expect(replyHandle('secret-a', t)).not.toBe(h)
    const address = bounceAddressOf(h, 'in.example.com')
    expect(bounceHandleOfAddress(`<${address.toUpperCase()}>`)).toBe(h)
    expect(bounceHandleOfAddress(`reply+${h}@in.example.com`)).toBeUndefined()
  })
})
