import { expect, it } from 'vitest'
import { classifyHit } from '../../../src/domain/messages/bots.ts'

const sentAt = new Date('2026-03-02T10:00:00Z')
const after = (s: number) => new Date(sentAt.getTime() + s * 1000)
const SAFARI =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148'

it('tells members from scanners, prefetchers and scripts', () => {
  const at = after(600)
  expect(classifyHit({ userAgent: SAFARI, at, sentAt })).toEqual({ bot: false })
  // Gmail fetches images when the member opens the mail: a human open.
  expect(
    classifyHit({
      userAgent: 'Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)',
      at,
      sentAt,
    }),
  ).toEqual({ bot: false })
  expect(classifyHit({ userAgent: undefined, at, sentAt })).toEqual({ bot: true, reason: 'no user agent' })
  expect(classifyHit({ userAgent: 'curl/8.5.0', at, sentAt })).toEqual({
    bot: true,
    reason: 'user agent: script',
  })
  expect(classifyHit({ userAgent: 'Mozilla/5.0 Proofpoint URL Defense', at, sentAt })).toEqual({
    bot: true,
    reason: 'user agent: scanner',
  })
  expect(classifyHit({ userAgent: 'Slackbot-LinkExpanding 1.0', at, sentAt })).toMatchObject({ bot: true })
})

it('a hit within the prefetch window after sending is a machine; the window is configurable', () => {
  expect(classifyHit({ userAgent: SAFARI, at: after(4.9), sentAt })).toEqual({
    bot: true,
    reason: 'within 5s of sending',
  })
  expect(classifyHit({ userAgent: SAFARI, at: after(5), sentAt })).toEqual({ bot: false })
  expect(classifyHit({ userAgent: SAFARI, at: after(20), sentAt, prefetchWindowMs: 30_000 })).toMatchObject({
    bot: true,
  })
  expect(classifyHit({ userAgent: SAFARI, at: after(1), sentAt: null })).toEqual({ bot: false })
})
