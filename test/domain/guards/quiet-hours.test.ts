import { describe, expect, it } from 'vitest'
import { decide } from '../../../src/domain/guards/decide.ts'
import { policy, request, state } from './fixtures.ts'

const evening = { quietHours: { enabled: true, start: '21:00', end: '08:00', mode: 'postpone' as const } }

// Times as a member sees them, and the instant the message is postponed to (UTC).
const cases = [
  // Europe/Paris: CET +1, CEST +2; clocks go forward 2026-03-29 02:00, back 2026-10-25 03:00.
  {
    tz: 'Europe/Paris',
    now: '2026-01-05T20:30:00Z',
    local: '21:30',
    until: '2026-01-06T07:00:00Z',
    why: 'evening',
  },
  {
    tz: 'Europe/Paris',
    now: '2026-03-28T22:00:00Z',
    local: '23:00',
    until: '2026-03-29T06:00:00Z',
    why: 'night before spring-forward: 08:00 is already CEST',
  },
  {
    tz: 'Europe/Paris',
    now: '2026-03-29T00:30:00Z',
    local: '01:30',
    until: '2026-03-29T06:00:00Z',
    why: 'spring-forward night, before the jump',
  },
  {
    tz: 'Europe/Paris',
    now: '2026-10-24T20:00:00Z',
    local: '22:00',
    until: '2026-10-25T07:00:00Z',
    why: 'night before fall-back: 08:00 is CET again',
  },
  {
    tz: 'Europe/Paris',
    now: '2026-10-25T00:30:00Z',
    local: '02:30',
    until: '2026-10-25T07:00:00Z',
    why: 'inside the repeated hour',
  },
  // America/New_York: EST −5, EDT −4; forward 2026-03-08, back 2026-11-01.
  {
    tz: 'America/New_York',
    now: '2026-03-08T03:00:00Z',
    local: '22:00',
    until: '2026-03-08T12:00:00Z',
    why: 'night before spring-forward',
  },
  {
    tz: 'America/New_York',
    now: '2026-11-01T03:00:00Z',
    local: '23:00',
    until: '2026-11-01T13:00:00Z',
    why: 'night before fall-back',
  },
  {
    tz: 'America/New_York',
    now: '2026-07-01T10:00:00Z',
    local: '06:00',
    until: '2026-07-01T12:00:00Z',
    why: 'early morning, same day',
  },
  // Asia/Kolkata: +05:30 all year.
  {
    tz: 'Asia/Kolkata',
    now: '2026-01-05T16:00:00Z',
    local: '21:30',
    until: '2026-01-06T02:30:00Z',
    why: 'half-hour offset',
  },
  {
    tz: 'Asia/Kolkata',
    now: '2026-01-05T18:30:00Z',
    local: '00:00',
    until: '2026-01-06T02:30:00Z',
    why: 'local midnight',
  },
  // Pacific/Auckland: NZDT +13, NZST +12; back 2026-04-05 03:00, forward 2026-09-27 02:00.
  {
    tz: 'Pacific/Auckland',
    now: '2026-04-04T09:00:00Z',
    local: '22:00',
    until: '2026-04-04T20:00:00Z',
    why: 'night before fall-back',
  },
  {
    tz: 'Pacific/Auckland',
    now: '2026-09-26T10:00:00Z',
    local: '22:00',
    until: '2026-09-26T19:00:00Z',
    why: 'night before spring-forward',
  },
]

describe('quiet hours 21:00–08:00, postponed in the member timezone', () => {
  it.each(cases)('$tz at $local ($why) → $until', ({ tz, now, until, local }) => {
    const d = decide(request({ timezone: tz }), state(), policy(evening), new Date(now))
    expect(d).toMatchObject({
      outcome: 'deferred',
      until: new Date(until),
      reason: 'quiet_hours',
      timezone: tz,
    })
    expect(d.verdicts.at(-1)?.message).toMatch(
      new RegExp(`^deferred: \\d{4}-\\d\\d-\\d\\d ${local} ${tz} is within`),
    )
  })

  it.each([
    {
      tz: 'Europe/Paris',
      now: '2026-01-05T19:59:59.999Z',
      outcome: 'send',
      edge: '20:59:59.999, just before start',
    },
    {
      tz: 'Europe/Paris',
      now: '2026-01-05T20:00:00.000Z',
      outcome: 'deferred',
      edge: '21:00 exactly: start is quiet',
    },
    {
      tz: 'Europe/Paris',
      now: '2026-01-06T06:59:59.999Z',
      outcome: 'deferred',
      edge: '07:59:59.999, just before end',
    },
    {
      tz: 'Europe/Paris',
      now: '2026-01-06T07:00:00.000Z',
      outcome: 'send',
      edge: '08:00 exactly: end is allowed',
    },
    { tz: 'Asia/Kolkata', now: '2026-01-05T15:29:59.999Z', outcome: 'send', edge: '20:59:59.999 IST' },
    { tz: 'Asia/Kolkata', now: '2026-01-05T15:30:00.000Z', outcome: 'deferred', edge: '21:00 IST' },
  ])('window edge in $tz: $edge → $outcome', ({ tz, now, outcome }) => {
    expect(decide(request({ timezone: tz }), state(), policy(evening), new Date(now)).outcome).toBe(outcome)
  })

  it('the 1 ms before the end is postponed to the end itself', () => {
    const d = decide(request(), state(), policy(evening), new Date('2026-01-06T06:59:59.999Z'))
    expect(d).toMatchObject({ outcome: 'deferred', until: new Date('2026-01-06T07:00:00.000Z') })
  })
})

describe('quiet hours ending inside a DST transition', () => {
  const lateNight = { quietHours: { enabled: true, start: '22:00', end: '02:30' } }

  it('an end that does not exist (spring-forward gap) resolves to the moment the clocks jump', () => {
    // Paris 2026-03-29: 02:00 CET jumps to 03:00 CEST at 01:00Z; 02:30 never happens.
    const d = decide(request(), state(), policy(lateNight), new Date('2026-03-28T23:30:00Z'))
    expect(d).toMatchObject({ outcome: 'deferred', until: new Date('2026-03-29T01:00:00Z') })
    expect(d.verdicts.at(-1)?.message).toContain('postponed to 2026-03-29 03:00 Europe/Paris')
  })

  it('an end that happens twice (fall-back overlap) resolves to its first occurrence', () => {
    // Paris 2026-10-25: 03:00 CEST goes back to 02:00 CET at 01:00Z; 02:30 happens at 00:30Z and 01:30Z.
    const d = decide(request(), state(), policy(lateNight), new Date('2026-10-24T23:00:00Z'))
    expect(d).toMatchObject({ outcome: 'deferred', until: new Date('2026-10-25T00:30:00Z') })
  })

  it('in the repeated hour after the first end, the clock reads quiet again: postponed to the second end', () => {
    const d = decide(request(), state(), policy(lateNight), new Date('2026-10-25T01:10:00Z')) // 02:10 CET
    expect(d).toMatchObject({ outcome: 'deferred', until: new Date('2026-10-25T01:30:00Z') })
  })

  it('New York fall-back with a 01:30 end: first and second occurrence', () => {
    const p = policy({ quietHours: { start: '22:00', end: '01:30' } })
    const ny = request({ timezone: 'America/New_York' })
    expect(decide(ny, state(), p, new Date('2026-11-01T04:00:00Z'))).toMatchObject({
      until: new Date('2026-11-01T05:30:00Z'), // 01:30 EDT
    })
    expect(decide(ny, state(), p, new Date('2026-11-01T06:10:00Z'))).toMatchObject({
      until: new Date('2026-11-01T06:30:00Z'), // 01:30 EST
    })
  })

  it('Auckland spring-forward with a 02:30 end: the jump at 02:00 NZST', () => {
    const p = policy({ quietHours: { start: '22:00', end: '02:30' } })
    const d = decide(request({ timezone: 'Pacific/Auckland' }), state(), p, new Date('2026-09-26T12:00:00Z'))
    expect(d).toMatchObject({ until: new Date('2026-09-26T14:00:00Z') }) // 03:00 NZDT
  })

  it('when the only allowed half-hour of a day is the one DST skips, the next day is used', () => {
    // Allowed 02:00–02:30 only; on 2026-09-27 Auckland jumps from 02:00 to 03:00.
    const p = policy({ quietHours: { start: '02:30', end: '02:00' } })
    const d = decide(request({ timezone: 'Pacific/Auckland' }), state(), p, new Date('2026-09-25T14:30:00Z'))
    expect(d).toMatchObject({ outcome: 'deferred', until: new Date('2026-09-27T13:00:00Z') }) // 28th 02:00 NZDT
  })
})

describe('quiet hours: modes, channels, exemptions, timezones', () => {
  const night = new Date('2026-01-05T22:00:00Z') // 23:00 in Paris

  it('a window within one day (12:00–14:00) postpones to 14:00 the same day', () => {
    const p = policy({ quietHours: { start: '12:00', end: '14:00' } })
    const d = decide(request({ timezone: 'Asia/Kolkata' }), state(), p, new Date('2026-01-05T07:00:00Z'))
    expect(d).toMatchObject({ outcome: 'deferred', until: new Date('2026-01-05T08:30:00Z') })
    expect(decide(request({ timezone: 'Asia/Kolkata' }), state(), p, night).outcome).toBe('send')
  })

  it('mode drop drops the message and says why', () => {
    const d = decide(request(), state(), policy({ quietHours: { mode: 'drop' } }), night)
    expect(d).toMatchObject({ outcome: 'dropped', reason: 'quiet_hours', timezone: 'Europe/Paris' })
    expect(d.verdicts.at(-1)?.message).toBe(
      'dropped: 2026-01-05 23:00 Europe/Paris is within quiet hours 21:00–08:00',
    )
  })

  it('transactional messages go at any hour', () => {
    const d = decide(request({ transactional: true }), state(), policy(evening), night)
    expect(d.outcome).toBe('send')
    expect(d.verdicts.find((v) => v.guard === 'quiet_hours')?.result).toBe('exempt')
  })

  it('in-app messages are not held by default; a policy can list the channels', () => {
    expect(decide(request({ channel: 'in_app' }), state(), policy(evening), night).outcome).toBe('send')
    const onlySms = policy({ quietHours: { channels: ['sms'] } })
    expect(decide(request({ channel: 'email' }), state(), onlySms, night).outcome).toBe('send')
    expect(decide(request({ channel: 'sms' }), state(), onlySms, night).outcome).toBe('deferred')
  })

  it('enabled: false turns them off', () => {
    expect(decide(request(), state(), policy(), night).outcome).toBe('send')
  })

  it('a member without a valid timezone falls back to the workspace timezone, noted in the trace', () => {
    const p = policy({ ...evening, timezone: 'America/New_York' })
    // 22:00Z is 17:00 in New York: allowed, though it is 23:00 in Paris.
    const d = decide(request({ timezone: 'Mars/Olympus_Mons' }), state(), p, night)
    expect(d.outcome).toBe('send')
    expect(d.verdicts.find((v) => v.guard === 'quiet_hours')?.message).toBe(
      'passed quiet hours: 2026-01-05 17:00 America/New_York is outside 21:00–08:00 (member timezone "Mars/Olympus_Mons" is unknown, used America/New_York)',
    )
    const none = decide(request({ timezone: null }), state(), p, new Date('2026-01-06T03:00:00Z'))
    expect(none).toMatchObject({
      outcome: 'deferred',
      until: new Date('2026-01-06T13:00:00Z'),
      timezone: 'America/New_York',
    })
  })
})
