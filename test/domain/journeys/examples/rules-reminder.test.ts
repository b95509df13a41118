import { describe, expect, it } from 'vitest'
import { event, loadExample, on, run, sendLines } from '../../../helpers/journeys.ts'

const journey = loadExample('rules-reminder')
const window = { start: '2026-02-01T00:00:00Z', end: '2026-03-31T00:00:00Z' }
const comment = (at: string, id: string, kind = 'read-the-rules') =>
  event('Moderation Comment Received', at, { comment: kind, comment_id: id, post_id: 'p1' })

describe('rules-reminder.yaml', () => {
  it('reminds once per comment and at most once per 7 days', () => {
    const result = run(
      journey,
      [
        on('ann', comment('2026-02-02T10:00:00Z', 'c-1')),
        // the same comment again (re-delivered, or edited): never twice
        on('ann', comment('2026-02-02T10:05:00Z', 'c-1')),
        // another comment two days later: inside the 7 days, skipped
        on('ann', comment('2026-02-04T10:00:00Z', 'c-2')),
        // eight days after the first: a new reminder
        on('ann', comment('2026-02-10T10:00:00Z', 'c-3')),
        // c-1 again much later: still once per comment
        on('ann', comment('2026-03-01T10:00:00Z', 'c-1')),
      ],
      window,
    )
    expect(sendLines(result)).toEqual([
      'ann email:charter-reminder 2026-02-02T10:00:00.000Z',
      'ann email:charter-reminder 2026-02-10T10:00:00.000Z',
    ])
    const skips = result.trace.filter((t) => t.kind === 'skipped').map((t) => t.message)
    expect(skips[0]).toBe('skipped: already entered for key c-1')
    expect(skips[1]).toMatch(/^skipped: at most 1 per 7d/)
    expect(skips[2]).toBe('skipped: already entered for key c-1')
  })

  it('ignores other moderation comments, and counts per member', () => {
    const result = run(
      journey,
      [
        on('bob', comment('2026-02-02T10:00:00Z', 'c-9', 'calm-down')),
        on('cat', comment('2026-02-02T10:00:00Z', 'c-10')),
        on('dan', comment('2026-02-02T11:00:00Z', 'c-11')),
      ],
      window,
    )
    expect(sendLines(result)).toEqual([
      'cat email:charter-reminder 2026-02-02T10:00:00.000Z',
      'dan email:charter-reminder 2026-02-02T11:00:00.000Z',
    ])
  })
})
