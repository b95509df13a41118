// GET /u/:token shows a confirmation page; POST /u/:token unsubscribes. Mail clients send
// the RFC 8058 one-click POST (body `List-Unsubscribe=One-Click`) to the same URL with no
// cookie and no session: the signed token is the whole authority. GET never changes
// anything, because mail scanners follow links.
import type { FastifyInstance } from 'fastify'
import { linkUrl } from '../../domain/links.ts'
import { isTestMessage } from '../../domain/messages/test-send.ts'
import { pageTopics } from '../../domain/preferences.ts'
import { listPreferences, savePreferences } from '../../store/preferences.ts'
import { profileIdentity } from '../../store/profile-events.ts'
import { creditUnsubscribe, findTrackedMessage, messageProperties } from '../../store/tracking.ts'
import { getWorkspace } from '../../store/workspaces.ts'
import { formOf, type PublicDeps } from './deps.ts'
import { esc, INVALID_LINK_PAGE, page } from './html.ts'
import { verifyPublicLink } from './verify.ts'

export function unsubscribeRoutes(app: FastifyInstance, deps: PublicDeps): void {
  const { db, clock } = deps

  async function context(token: string) {
    const now = clock.now()
    const v = await verifyPublicLink(db, token, 'unsubscribe', now)
    if (!v.ok) return undefined
    const ws = await getWorkspace(db, v.claims.workspaceId)
    const prefs = await listPreferences(db, v.claims.workspaceId, v.claims.profileId)
    const topic = pageTopics(ws?.settings, prefs).find((t) => t.id === v.claims.topic)
    const preferencesUrl = linkUrl(
      '',
      { kind: 'preferences', workspaceId: v.claims.workspaceId, profileId: v.claims.profileId },
      v.secret,
      now,
    )
    return { ...v, now, workspaceName: ws?.name, topicLabel: topic?.label ?? v.claims.topic, preferencesUrl }
  }

  app.get<{ Params: { token: string } }>('/u/:token', async (req, reply) => {
    reply.type('text/html; charset=utf-8').header('cache-control', 'no-store')
    const c = await context(req.params.token)
    if (!c) return reply.status(400).send(INVALID_LINK_PAGE)
    const action = esc(req.url.split('?')[0] ?? '')
    return page(
      'Unsubscribe',
      `<p>Stop receiving <strong>${esc(c.topicLabel)}</strong> messages?</p>
<form method="post" action="${action}"><button type="submit">Unsubscribe</button></form>
<form method="post" action="${action}"><input type="hidden" name="scope" value="all">
<button type="submit" class="secondary">Unsubscribe from everything</button></form>
<p class="note">Or <a href="${esc(c.preferencesUrl)}">choose which messages you get</a>.</p>`,
      c.workspaceName,
    )
  })

  app.post<{ Params: { token: string } }>('/u/:token', async (req, reply) => {
    reply.type('text/html; charset=utf-8').header('cache-control', 'no-store')
    const c = await context(req.params.token)
    if (!c) return reply.status(400).send(INVALID_LINK_PAGE)
    if (isTestMessage(c.claims.messageId))
      return page(
        'This was a test message',
        '<p>This link came from a test send: nothing was changed. Members who get the real message can unsubscribe with its link.</p>',
        c.workspaceName,
      )
    const form = formOf(req.body)
    const all = form.scope === 'all'
    const oneClick = form['List-Unsubscribe'] === 'One-Click' || /List-Unsubscribe/.test(form.raw ?? '')
    const topic = all ? '*' : c.claims.topic
    const { claims, now } = c
    await db.transaction(async (tx) => {
      // Choices follow a merged profile to the one it became.
      const who = await profileIdentity(tx, claims.workspaceId, claims.profileId)
      const profileId = who?.profileId ?? claims.profileId
      const prefs = await listPreferences(tx, claims.workspaceId, profileId)
      if (prefs.some((p) => p.topic === topic && p.channel === '*' && !p.subscribed)) return
      const message = claims.messageId
        ? await findTrackedMessage(tx, claims.workspaceId, claims.messageId)
        : undefined
      await savePreferences(tx, {
        workspaceId: claims.workspaceId,
        profileId,
        upserts: [{ topic, channel: '*', subscribed: false }],
        at: now,
        source: oneClick ? 'one_click' : 'link',
        ...(message ? { messageProperties: messageProperties(message) } : {}),
      })
      if (message) await creditUnsubscribe(tx, message, now)
    })
    return page(
      'You are unsubscribed',
      `<p class="ok">You will no longer receive ${all ? 'messages from us, except those about your account' : `<strong>${esc(c.topicLabel)}</strong> messages from us`}.</p>
<p class="note">Changed your mind? <a href="${esc(c.preferencesUrl)}">Manage your preferences</a>.</p>`,
      c.workspaceName,
    )
  })
}
