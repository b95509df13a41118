import { describe, expect, it } from 'vitest'
import { nextDateOccurrence } from '../../../src/domain/journeys/occurrence.ts'
import { planDateTimer, timeTriggerEvent } from '../../../src/domain/journeys/time-trigger.ts'
import type { Journey } from '../../../src/domain/journeys/types.ts'

const trigger = { type: 'date', trait: 'renewal_at', offset: '-7d', at: '09:00' } as const
const now = new Date('2026-03-01T00:00:00Z')

describe('date timers after a change of traits', () => {
  it('keeps the timer when the date did not change, moves it when it did, cancels it when cleared', () => {
    const before = { renewal_at: '2026-04-20', plan: 'free' }
    expect(planDateTimer(trigger, before, { ...before, plan: 'pro' }, now, 'Europe/Paris')).toEqual({
      kind: 'keep',
    })
    expect(planDateTimer(trigger, before, { renewal_at: '2026-06-20' }, now, 'Europe/Paris')).toEqual({
      kind: 'schedule',
      at: new Date('2026-06-13T07:00:00Z'),
    })
    expect(planDateTimer(trigger, before, { renewal_at: null }, now, 'Europe/Paris')).toEqual({
      kind: 'cancel',
    })
    // Renews tomorrow: a week before is already past.
    expect(planDateTimer(trigger, {}, { renewal_at: '2026-03-02' }, now, 'UTC')).toEqual({ kind: 'cancel' })
  })

  it('a new timezone trait moves "at 09:00" too', () => {
    const plan = planDateTimer(
      trigger,
      { renewal_at: '2026-04-20', timezone: 'Europe/Paris' },
      { renewal_at: '2026-04-20', timezone: 'America/New_York' },
      now,
      'America/New_York',
    )
    expect(plan).toEqual({ kind: 'schedule', at: new Date('2026-04-13T13:00:00Z') })
  })
})

describe('calendar dates', () => {
  it('a bare date is that day in the member timezone, not midnight UTC', () => {
    // Midnight UTC on 10 March is the evening of 9 March in New York.
    const birthday = { type: 'date', trait: 'birthday', repeat: 'yearly', at: '10:00' } as const
    expect(
      nextDateOccurrence(birthday, { birthday: '1990-03-10' }, now, 'America/New_York')?.toISOString(),
    ).toBe('2026-03-10T14:00:00.000Z')
    expect(nextDateOccurrence(birthday, { birthday: '1990-02-31' }, now, 'UTC')).toBeNull()
  })
})

describe('the trigger event of a time-started run', () => {
  it('names the occurrence, so every_time enters once per occurrence', () => {
    const journey = { id: 'renewal', name: 'R', trigger, entry: { type: 'every_time' }, steps: [] } as Journey
    const e = timeTriggerEvent(journey, trigger, new Date('2026-04-13T07:00:00Z'), 'Europe/Paris', {
      renewal_at: '2026-04-20',
    })
    expect(e.id).toBe('date:renewal:2026-04-13T07:00:00.000Z')
    expect(e.name).toBe('Date Reached')
    expect(e.properties).toEqual({
      journey: 'renewal',
      trait: 'renewal_at',
      date: '2026-04-20',
      occurrence: '2026-04-13T07:00:00.000Z',
      timezone: 'Europe/Paris',
    })
  })
})
