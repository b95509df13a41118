// Click tracking and the open pixel, applied to a rendered HTML part before it is sent.
// Pure string work on the <a href> and </body> of email HTML: no DOM, no I/O.
import { isHttpUrl, linkUrl } from '../links.ts'

const ANCHOR_HREF = /(<a\b[^>]*?\bhref\s*=\s*)(?:"([^"]*)"|'([^']*)')/gi

function decodeEntities(s: string): string {
  return s
    .replace(/&#(\d+);/g, (_, n: string) => String.fromCodePoint(Number(n)))
    .replace(/&#x([0-9a-f]+);/gi, (_, n: string) => String.fromCodePoint(Number.parseInt(n, 16)))
    .replace(/&quot;/g, '"')
    .replace(/&#39;|&apos;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
}

const escapeAttr = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;')

/**
 * Replaces the href of every <a> whose URL `rewrite` maps to a new one; `undefined` keeps it.
 * Only http(s) links are offered (mailto:, tel:, #anchors stay as they are).
 */
export function rewriteLinks(html: string, rewrite: (url: string) => string | undefined): string {
  return html.replace(
    ANCHOR_HREF,
    (whole, prefix: string, dq: string | undefined, sq: string | undefined) => {
      if (/\bdata-nudge-track\s*=\s*["']?false/i.test(whole)) return whole
      const url = decodeEntities((dq ?? sq ?? '').trim())
      if (!isHttpUrl(url)) return whole
      const next = rewrite(url)
      return next === undefined ? whole : `${prefix}"${escapeAttr(next)}"`
    },
  )
}

export interface TrackingOptions {
  /** Public base URL of this Nudge, e.g. https://nudge.example */
  readonly baseUrl: string
  readonly secret: string
  readonly workspaceId: string
  readonly messageId: string
  readonly now: Date
}

/**
 * Wraps links in signed click redirects. Links to Nudge itself (unsubscribe, preferences)
 * stay direct: a mail scanner following them must not count as a click, and an unsubscribe
 * link must work without a detour.
 */
export function trackClicks(html: string, o: TrackingOptions): string {
  const own = o.baseUrl.replace(/\/$/, '')
  return rewriteLinks(html, (url) =>
    url.startsWith(`${own}/`)
      ? undefined
      : linkUrl(
          o.baseUrl,
          { kind: 'click', workspaceId: o.workspaceId, messageId: o.messageId, url },
          o.secret,
          o.now,
        ),
  )
}

/** Adds the signed 1×1 open pixel just before </body>, or at the end. */
export function insertOpenPixel(html: string, o: TrackingOptions): string {
  const src = linkUrl(
    o.baseUrl,
    { kind: 'open', workspaceId: o.workspaceId, messageId: o.messageId },
    o.secret,
    o.now,
  )
  const img = `<img src="${escapeAttr(src)}" width="1" height="1" alt="" style="display:block;width:1px;height:1px;border:0" />`
  const at = html.search(/<\/body\s*>(?![\s\S]*<\/body)/i)
  return at === -1 ? `${html}${img}` : `${html.slice(0, at)}${img}${html.slice(at)}`
}
