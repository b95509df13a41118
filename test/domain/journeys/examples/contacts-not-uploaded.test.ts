import { describe, expect, it } from 'vitest'
import { event, loadExample, on, run, sendLines } from '../../../helpers/journeys.ts'

const journey = loadExample('contacts-not-uploaded')
const window = { start: '2026-01-01T00:00:00Z', end: '2026-03-31T00:00:00Z' }

describe('contacts-not-uploaded.yaml', () => {
  it('explains how to upload contacts three days after sign-up, exactly once', () => {
    const result = run(
      journey,
      [
        on('ann', event('Signed Up', '2026-01-12T09:15:00Z')),
        on('ann', event('Signed Up', '2026-01-13T09:15:00Z')),
        on('ann', event('Logged In', '2026-01-14T09:15:00Z')),
      ],
      window,
    )
    expect(sendLines(result)).toEqual(['ann email:how-to-upload-contacts 2026-01-15T09:15:00.000Z'])
  })

  it('sends nothing when contacts are uploaded within the 3 days, nor later', () => {
    const result = run(
      journey,
      [
        on('bob', event('Signed Up', '2026-01-12T09:15:00Z')),
        on('bob', event('Contacts Uploaded', '2026-01-15T09:14:00Z')),
        on('bob', event('Signed Up', '2026-02-01T09:15:00Z')),
      ],
      window,
    )
    expect(result.sends).toEqual([])
    expect(result.runs).toHaveLength(1)
    expect(result.runs[0]?.status).toBe('completed')
  })
})
