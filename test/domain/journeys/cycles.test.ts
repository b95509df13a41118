import { describe, expect, it } from 'vitest'
import { checkCycles } from '../../../src/domain/journeys/cycles.ts'
import type { EntryRule, Journey, Step, Trigger } from '../../../src/domain/journeys/types.ts'

const journey = (id: string, trigger: Trigger, steps: Step[], entry: EntryRule = { type: 'every_time' }) =>
  ({ id, name: id, trigger, entry, steps }) as Journey

const onEntered = (): Trigger => ({ type: 'event', event: 'Journey Entered' })
const send: Step = { id: 'mail', type: 'send', channel: 'email', template: 'hello' }
const loopsOf = (...journeys: Journey[]) => checkCycles(journeys).map((c) => c.journeyId)

describe('journeys that start themselves or each other without a delay', () => {
  it('finds a journey entered on its own Journey Entered, every time', () => {
    const [issue] = checkCycles([journey('echo', onEntered(), [send])])
    expect(issue?.issue.message).toBe(
      'this journey starts itself again and again without a delay: entering it emits Journey Entered, which matches its own trigger',
    )
  })

  it('accepts the same journey when entries are limited or another journey is named', () => {
    expect(loopsOf(journey('echo', onEntered(), [send], { type: 'once' }))).toEqual([])
    expect(
      loopsOf(journey('echo', onEntered(), [send], { type: 'every_time', at_most: { count: 1, per: '1d' } })),
    ).toEqual([])
    const other: Trigger = {
      type: 'event',
      event: 'Journey Entered',
      where: [{ path: 'properties.journey_id', op: 'eq', value: 'welcome' }],
    }
    expect(loopsOf(journey('follow-up', other, [send]))).toEqual([])
  })

  it('finds a message that re-triggers its journey, unless a delay comes first', () => {
    const onSent: Trigger = {
      type: 'event',
      event: 'Message Sent',
      where: [{ path: 'properties.template', op: 'eq', value: 'hello' }],
    }
    const noDelay = journey('chain', onSent, [{ type: 'branch', paths: [], else: [send] } as Step])
    expect(checkCycles([noDelay])[0]?.issue.message).toContain('steps[0].else[0] emits Message Sent')
    // A delay before the send: one more run a day, not a spin. The Journey Entered signal
    // does not match a Message Sent trigger.
    expect(loopsOf(journey('chain', onSent, [{ type: 'delay', for: '1d' }, send]))).toEqual([])
  })

  it('finds two journeys flipping a trait back and forth, not one setting it to a constant', () => {
    const toFree = journey('to-free', { type: 'trait_changed', trait: 'plan', to: 'pro' }, [
      { type: 'update', set: { plan: 'free' } },
    ])
    const toPro = journey('to-pro', { type: 'trait_changed', trait: 'plan', to: 'free' }, [
      { type: 'update', set: { plan: 'pro' } },
    ])
    expect(loopsOf(toFree, toPro).sort()).toEqual(['to-free', 'to-pro'])
    // Setting plan to pro on any change of plan happens once: the second time nothing changes.
    const settle = journey('settle', { type: 'trait_changed', trait: 'plan' }, [
      { type: 'update', set: { plan: 'pro' } },
    ])
    expect(loopsOf(settle)).toEqual([])
  })
})
