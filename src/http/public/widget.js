// Nudge in-app widget: shows a member's in-app messages (inbox, banner, modal, fullscreen)
// on a community site. No dependencies, no build step. Include it with:
//   <script src="https://nudge.example/widget.js" async
//     data-workspace="default" data-user-id="42" data-token="<member token>"></script>
// The token is HMAC-SHA256(identity secret, userId), computed by the site's server.
// Text is always set with textContent: a message can never inject markup into the page.
;(() => {
  const script = document.currentScript
  const data = script?.dataset || {}
  const given = window.NudgeConfig || {}
  const cfg = {
    host: given.host || data.host || (script ? new URL(script.src).origin : ''),
    workspace: given.workspace || data.workspace || 'default',
    userId: given.userId || data.userId,
    token: given.token || data.token,
    pollSeconds: Number(given.pollSeconds || data.pollSeconds || 0),
  }
  if (!cfg.userId || !cfg.token) return

  const Z = 2147483000
  let messages = []
  let inboxOpen = false
  const shown = new Set()

  function api(method, path) {
    return fetch(cfg.host + path, {
      method,
      headers: {
        authorization: `Bearer ${cfg.token}`,
        'x-nudge-user': String(cfg.userId),
        'x-nudge-workspace': cfg.workspace,
      },
    }).then((r) => (r.ok ? r.json() : Promise.reject(new Error(`Nudge API ${r.status}`))))
  }
  const act = (m, what) =>
    api('POST', `/v1/in-app/messages/${encodeURIComponent(m.id)}/${what}`).catch(() => {})

  function el(tag, style, text) {
    const e = document.createElement(tag)
    if (style) e.setAttribute('style', style)
    if (text) e.textContent = text
    return e
  }

  function content(m, box) {
    if (m.title) box.appendChild(el('strong', 'display:block;margin-bottom:.25em', m.title))
    box.appendChild(el('div', 'white-space:pre-line', m.body))
    if (m.url) {
      const a = el('a', 'color:inherit;font-weight:600', 'Open')
      a.href = m.url
      a.addEventListener('click', () => act(m, 'read'))
      box.appendChild(a)
    }
  }

  function closeButton(onClose) {
    const b = el('button', 'border:0;background:none;font-size:1.4em;cursor:pointer;color:inherit', '×')
    b.setAttribute('aria-label', 'Close')
    b.addEventListener('click', onClose)
    return b
  }

  function dismiss(m, node) {
    node.remove()
    messages = messages.filter((x) => x.id !== m.id)
    act(m, 'dismiss')
    renderInbox()
  }

  function showBanner(m) {
    const bar = el(
      'div',
      `position:fixed;top:0;left:0;right:0;z-index:${Z};display:flex;gap:1em;align-items:center;padding:.75em 1em;background:#1f2328;color:#fff;font:15px/1.4 system-ui,sans-serif`,
    )
    bar.dataset.nudgeKind = 'banner'
    bar.setAttribute('role', 'status')
    const body = el('div', 'flex:1')
    content(m, body)
    bar.append(
      body,
      closeButton(() => dismiss(m, bar)),
    )
    document.body.appendChild(bar)
  }

  function showDialog(m, full) {
    const overlay = el(
      'div',
      `position:fixed;inset:0;z-index:${Z + 1};display:flex;align-items:center;justify-content:center;background:${full ? '#fff' : 'rgba(0,0,0,.5)'}`,
    )
    overlay.dataset.nudgeKind = full ? 'fullscreen' : 'modal'
    const box = el(
      'div',
      full
        ? 'max-width:40em;padding:2em;font:17px/1.5 system-ui,sans-serif;color:#1f2328'
        : 'max-width:30em;margin:1em;padding:1.5em;border-radius:8px;background:#fff;color:#1f2328;font:16px/1.5 system-ui,sans-serif;position:relative',
    )
    box.setAttribute('role', 'dialog')
    box.setAttribute('aria-modal', 'true')
    const close = closeButton(() => dismiss(m, overlay))
    close.style.cssText += ';position:absolute;top:.5em;right:.75em'
    box.appendChild(close)
    content(m, box)
    overlay.appendChild(box)
    document.body.appendChild(overlay)
  }

  let bell
  let panel
  function renderInbox() {
    const inbox = messages.filter((m) => m.kind === 'inbox')
    if (!bell) {
      bell = el(
        'button',
        `position:fixed;bottom:1em;right:1em;z-index:${Z};border:0;border-radius:2em;padding:.6em 1em;background:#1f2328;color:#fff;font:15px system-ui,sans-serif;cursor:pointer`,
      )
      bell.dataset.nudgeKind = 'inbox-button'
      bell.addEventListener('click', () => {
        inboxOpen = !inboxOpen
        if (inboxOpen) for (const m of messages) if (m.kind === 'inbox' && !m.readAt) markRead(m)
        renderInbox()
      })
      document.body.appendChild(bell)
    }
    const unread = inbox.filter((m) => !m.readAt).length
    bell.textContent = unread ? `Messages (${unread})` : 'Messages'
    bell.style.display = inbox.length ? '' : 'none'
    if (panel) panel.remove()
    panel = undefined
    if (!inboxOpen || !inbox.length) return
    panel = el(
      'div',
      `position:fixed;bottom:4em;right:1em;z-index:${Z};width:22em;max-height:60vh;overflow:auto;background:#fff;color:#1f2328;border:1px solid #d0d7de;border-radius:8px;box-shadow:0 8px 24px rgba(0,0,0,.2);font:15px/1.4 system-ui,sans-serif`,
    )
    panel.dataset.nudgeKind = 'inbox'
    for (const m of inbox) {
      const item = el('div', 'display:flex;gap:.5em;padding:.75em 1em;border-bottom:1px solid #eaeef2')
      item.dataset.nudgeMessage = m.id
      const body = el('div', 'flex:1')
      content(m, body)
      item.append(
        body,
        closeButton(() => dismiss(m, item)),
      )
      panel.appendChild(item)
    }
    document.body.appendChild(panel)
  }

  function markRead(m) {
    if (m.readAt) return
    m.readAt = new Date().toISOString()
    act(m, 'read')
  }

  function render() {
    // Banners, modals and fullscreens show once each; the newest unread modal or fullscreen only.
    for (const m of messages) {
      if (shown.has(m.id)) continue
      if (m.kind === 'banner') {
        shown.add(m.id)
        showBanner(m)
        markRead(m)
      }
    }
    const dialog = messages.find((m) => (m.kind === 'modal' || m.kind === 'fullscreen') && !m.readAt)
    if (dialog && !shown.has(dialog.id)) {
      shown.add(dialog.id)
      showDialog(dialog, dialog.kind === 'fullscreen')
      markRead(dialog)
    }
    renderInbox()
  }

  function refresh() {
    return api('GET', '/v1/in-app/messages').then((r) => {
      messages = r.messages
      render()
      return messages
    })
  }

  window.Nudge = { refresh, messages: () => messages.slice() }
  const start = () => {
    refresh().catch(() => {})
    if (cfg.pollSeconds > 0) setInterval(() => refresh().catch(() => {}), cfg.pollSeconds * 1000)
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start)
  else start()
})()
