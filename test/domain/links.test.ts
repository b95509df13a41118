import { describe, expect, it } from 'vitest'
import { type LinkClaims, linkUrl, peekWorkspace, signLink, verifyLink } from '../../src/domain/links.ts'
import { insertOpenPixel, rewriteLinks, trackClicks } from '../../src/domain/messages/tracking.ts'

const SECRET = 'workspace-secret-a'
const OTHER = 'workspace-secret-b'
const now = new Date('2026-03-02T08:30:00Z')
const click: LinkClaims = {
  kind: 'click',
  workspaceId: 'ws-a',
  messageId: 'msg-1',
  url: 'https://photoclub.example/guide?x=1&y=2',
}

/** Re-encodes a token's payload with a change, keeping the old signature. */
function tamper(token: string, change: (claims: Record<string, unknown>) => void): string {
  const [payload, sig] = token.split('.')
  const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString())
  change(claims)
  return `${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${sig}`
}

describe('signed links', () => {
  it('round-trips every kind of link', () => {
    const all: LinkClaims[] = [
      { kind: 'unsubscribe', workspaceId: 'ws-a', profileId: 'p1', topic: 'newsletter' },
      { kind: 'preferences', workspaceId: 'ws-a', profileId: 'p1' },
      { kind: 'open', workspaceId: 'ws-a', messageId: 'msg-1' },
      click,
    ]
    for (const claims of all) {
      const token = signLink(claims, SECRET, now)
      expect(verifyLink(token, SECRET, now, claims.kind)).toEqual({ ok: true, claims })
      expect(peekWorkspace(token)).toBe('ws-a')
    }
  })

  it('a click link whose target URL was changed fails verification', () => {
    const token = signLink(click, SECRET, now)
    const evil = tamper(token, (c) => {
      c.u = 'https://phishing.example/login'
    })
    expect(verifyLink(evil, SECRET, now, 'click')).toEqual({ ok: false, reason: 'bad-signature' })
  })

  it('a link signed by another workspace (a foreign URL) fails verification', () => {
    const foreign = signLink({ ...click, url: 'https://phishing.example/' }, OTHER, now)
    expect(verifyLink(foreign, SECRET, now, 'click')).toEqual({ ok: false, reason: 'bad-signature' })
    // Claiming our workspace id does not help without our secret.
    expect(
      verifyLink(
        tamper(foreign, (c) => (c.w = 'ws-a')),
        SECRET,
        now,
      ),
    ).toMatchObject({ ok: false })
  })

  it('an open-pixel token is not an unsubscribe token', () => {
    const token = signLink({ kind: 'open', workspaceId: 'ws-a', messageId: 'm' }, SECRET, now)
    expect(verifyLink(token, SECRET, now, 'unsubscribe')).toEqual({ ok: false, reason: 'wrong-kind' })
  })

  it('preferences links expire; unsubscribe links do not', () => {
    const prefs = signLink({ kind: 'preferences', workspaceId: 'ws-a', profileId: 'p1' }, SECRET, now)
    const unsub = signLink(
      { kind: 'unsubscribe', workspaceId: 'ws-a', profileId: 'p1', topic: 't' },
      SECRET,
      now,
    )
    const later = new Date(now.getTime() + 31 * 24 * 3600_000)
    expect(verifyLink(prefs, SECRET, later)).toEqual({ ok: false, reason: 'expired' })
    expect(verifyLink(unsub, SECRET, new Date(now.getTime() + 5 * 365 * 24 * 3600_000)).ok).toBe(true)
  })

  it('garbage is malformed, not a crash', () => {
    for (const t of ['', 'abc', 'a.b.c', '!!!.???', `${Buffer.from('null').toString('base64url')}.AAAA`]) {
      expect(verifyLink(t, SECRET, now).ok).toBe(false)
    }
  })

  it('builds public URLs under the base URL', () => {
    expect(linkUrl('https://n.example/', click, SECRET, now)).toMatch(
      /^https:\/\/n\.example\/c\/[\w-]+\.[\w-]+$/,
    )
    expect(
      linkUrl('https://n.example', { kind: 'open', workspaceId: 'w', messageId: 'm' }, SECRET, now),
    ).toMatch(/^https:\/\/n\.example\/o\/[\w-]+\.[\w-]+\.gif$/)
  })
})

describe('click tracking and the open pixel', () => {
  const opts = { baseUrl: 'https://n.example', secret: SECRET, workspaceId: 'ws-a', messageId: 'msg-1', now }
  const html =
    '<html><body><p><a href="https://photoclub.example/guide?x=1&amp;y=2">guide</a> ' +
    "<a class='b' href='mailto:claire@photoclub.example'>mail</a> " +
    '<a href="https://n.example/u/tok">unsubscribe</a> ' +
    '<a data-nudge-track="false" href="https://private.example/">private</a></p></body></html>'

  it('wraps outgoing links in signed redirects that lead to the original URL', () => {
    const out = trackClicks(html, opts)
    const hrefs = [...out.matchAll(/href=["']([^"']+)/g)].map((m) => m[1]!)
    expect(hrefs).toHaveLength(4)
    const [wrapped, mailto, unsub, priv] = hrefs
    expect(wrapped).toMatch(/^https:\/\/n\.example\/c\//)
    const token = wrapped!.slice('https://n.example/c/'.length)
    // The &amp; in the HTML was the URL's &: the redirect goes to the real URL.
    expect(verifyLink(token, SECRET, now, 'click')).toEqual({ ok: true, claims: click })
    expect(mailto).toBe('mailto:claire@photoclub.example')
    expect(unsub).toBe('https://n.example/u/tok')
    expect(priv).toBe('https://private.example/')
  })

  it('leaves the HTML alone when nothing is to be rewritten', () => {
    expect(rewriteLinks('<p>no links</p>', () => 'x')).toBe('<p>no links</p>')
  })

  it('puts the pixel before </body>, or at the end without one', () => {
    const withBody = insertOpenPixel('<html><body><p>Hi</p></body></html>', opts)
    expect(withBody).toMatch(
      /<p>Hi<\/p><img src="https:\/\/n\.example\/o\/[\w.-]+\.gif" width="1" height="1"[^>]*\/><\/body><\/html>$/,
    )
    expect(insertOpenPixel('<p>Hi</p>', opts)).toMatch(/^<p>Hi<\/p><img /)
  })
})
