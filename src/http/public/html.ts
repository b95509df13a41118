// The hosted pages members land on: plain HTML with a little inline CSS, no JavaScript,
// no external resources, so they work in any browser and any mail client's web view.

export function esc(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;')
}

const CSS = `body{font:16px/1.5 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:#1f2328;background:#f6f8fa;margin:0}
main{max-width:36rem;margin:3rem auto;background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:2rem}
h1{font-size:1.4rem;margin-top:0}button{font:inherit;padding:.5rem 1rem;border-radius:6px;border:1px solid #1f2328;background:#1f2328;color:#fff;cursor:pointer}
button.secondary{background:#fff;color:#1f2328}form{margin:1rem 0}table{border-collapse:collapse;width:100%}
th,td{padding:.4rem;text-align:center;border-bottom:1px solid #eaeef2}th:first-child,td:first-child{text-align:left}
.note{color:#57606a;font-size:.9rem}.ok{background:#dafbe1;border:1px solid #4ac26b;padding:.5rem 1rem;border-radius:6px}`

/** A whole page; `body` is trusted HTML built with esc(). */
export function page(title: string, body: string, workspaceName?: string): string {
  const from = workspaceName ? `<p class="note">${esc(workspaceName)}</p>` : ''
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex"><title>${esc(title)}</title><style>${CSS}</style></head>
<body><main>${from}<h1>${esc(title)}</h1>${body}</main></body></html>`
}

export const INVALID_LINK_PAGE = page(
  'This link does not work',
  '<p>The link is incomplete or was changed. Open it again from the message you received; if you copied it, make sure you copied all of it.</p>',
)

export const EXPIRED_LINK_PAGE = page(
  'This link has expired',
  '<p>For your safety, links to your preferences work for a limited time. Use the link in a more recent message.</p>',
)
