import { describe, expect, it } from 'vitest'
import { event, loadExample, on, run, sendLines } from '../../../helpers/journeys.ts'

const journey = loadExample('beginner-photo-tip')
const window = { start: '2026-05-01T00:00:00Z', end: '2026-06-30T00:00:00Z' }
const post = (at: string, forum = 'photo-beginners') => event('Post Created', at, { forum })

describe('beginner-photo-tip.yaml', () => {
  it('sends the tip two days after the first post in photo-beginners, and only once', () => {
    const result = run(
      journey,
      [on('ann', post('2026-05-04T18:30:00Z')), on('ann', post('2026-05-10T09:00:00Z'))],
      window,
    )
    expect(sendLines(result)).toEqual(['ann email:photo-tip-beginners-guide 2026-05-06T18:30:00.000Z'])
  })

  it('ignores posts in other forums', () => {
    const result = run(journey, [on('bob', post('2026-05-04T18:30:00Z', 'landscapes'))], window)
    expect(result.sends).toEqual([])
    expect(result.totals.entered).toBe(0)
  })

  it('sends nothing to a member who bought the guide during the two days (a conversion)', () => {
    const result = run(
      journey,
      [on('cat', post('2026-05-04T18:30:00Z')), on('cat', event('Guide Purchased', '2026-05-05T12:00:00Z'))],
      window,
    )
    expect(result.sends).toEqual([])
    expect(result.runs[0]?.status).toBe('converted')
  })

  it('sends nothing to a member who had bought the guide before posting', () => {
    const result = run(
      journey,
      [on('dan', event('Guide Purchased', '2026-04-20T12:00:00Z')), on('dan', post('2026-05-04T18:30:00Z'))],
      { ...window, start: '2026-04-01T00:00:00Z' },
    )
    expect(result.sends).toEqual([])
    expect(result.runs[0]?.status).toBe('exited')
  })
})
