// GET/POST /p/:token: the hosted preferences page, topics x channels as checkboxes plus
// "stop everything". Plain HTML forms: saving is a POST answered with a redirect to the
// page (post/redirect/get), so it works without JavaScript and a reload does not resubmit.
import type { FastifyInstance } from 'fastify'
import type { SubscriptionPreference } from '../../domain/guards/types.ts'
import {
  cellKey,
  isSubscribed,
  MEMBER_CHANNELS,
  pageTopics,
  planSave,
  stoppedAll,
  type TopicInfo,
} from '../../domain/preferences.ts'
import { listPreferences, savePreferences } from '../../store/preferences.ts'
import { profileIdentity } from '../../store/profile-events.ts'
import { getWorkspace } from '../../store/workspaces.ts'
import { formOf, type PublicDeps } from './deps.ts'
import { EXPIRED_LINK_PAGE, esc, INVALID_LINK_PAGE, page } from './html.ts'
import { verifyPublicLink } from './verify.ts'

function form(
  action: string,
  topics: readonly TopicInfo[],
  prefs: readonly SubscriptionPreference[],
): string {
  const head = MEMBER_CHANNELS.map((c) => `<th scope="col">${esc(c.label)}</th>`).join('')
  const rows = topics
    .map((t) => {
      const cells = MEMBER_CHANNELS.map((c) => {
        const name = cellKey(t.id, c.id)
        const on = isSubscribed(prefs, t.id, c.id) ? ' checked' : ''
        return `<td><input type="checkbox" name="${esc(name)}" aria-label="${esc(`${t.label}: ${c.label}`)}"${on}></td>`
      }).join('')
      const desc = t.description ? `<br><span class="note">${esc(t.description)}</span>` : ''
      return `<tr><th scope="row">${esc(t.label)}${desc}</th>${cells}</tr>`
    })
    .join('\n')
  const all = stoppedAll(prefs) ? ' checked' : ''
  return `<form method="post" action="${esc(action)}">
<table><thead><tr><th></th>${head}</tr></thead><tbody>
${rows}
</tbody></table>
<p><label><input type="checkbox" name="stop_all"${all}> Stop all messages (except those about your account)</label></p>
<button type="submit">Save</button></form>`
}

export function preferencesRoutes(app: FastifyInstance, deps: PublicDeps): void {
  const { db, clock } = deps

  async function load(token: string) {
    const v = await verifyPublicLink(db, token, 'preferences', clock.now())
    if (!v.ok) return { page: v.reason === 'expired' ? EXPIRED_LINK_PAGE : INVALID_LINK_PAGE } as const
    const { workspaceId } = v.claims
    const who = await profileIdentity(db, workspaceId, v.claims.profileId)
    const profileId = who?.profileId ?? v.claims.profileId
    const ws = await getWorkspace(db, workspaceId)
    return { workspaceId, profileId, ws } as const
  }

  app.get<{ Params: { token: string }; Querystring: { saved?: string } }>('/p/:token', async (req, reply) => {
    reply.type('text/html; charset=utf-8').header('cache-control', 'no-store')
    const l = await load(req.params.token)
    if ('page' in l) return reply.status(400).send(l.page)
    const prefs = await listPreferences(db, l.workspaceId, l.profileId)
    const saved = req.query.saved !== undefined ? '<p class="ok">Your preferences are saved.</p>' : ''
    const action = req.url.split('?')[0] ?? ''
    return page(
      'Your email and notification preferences',
      `${saved}<p>Choose what you want to hear about, and where.</p>${form(action, pageTopics(l.ws?.settings, prefs), prefs)}`,
      l.ws?.name,
    )
  })

  app.post<{ Params: { token: string } }>('/p/:token', async (req, reply) => {
    const l = await load(req.params.token)
    if ('page' in l) return reply.status(400).type('text/html; charset=utf-8').send(l.page)
    const body = formOf(req.body)
    const checked = new Set(Object.keys(body).filter((k) => k.startsWith('s.') && body[k] !== ''))
    const now = clock.now()
    await db.transaction(async (tx) => {
      const prefs = await listPreferences(tx, l.workspaceId, l.profileId)
      const topics = pageTopics(l.ws?.settings, prefs).map((t) => t.id)
      const plan = planSave(
        prefs,
        { stopAll: body.stop_all !== undefined && body.stop_all !== '', checked },
        topics,
        MEMBER_CHANNELS.map((c) => c.id),
        now,
      )
      await savePreferences(tx, {
        workspaceId: l.workspaceId,
        profileId: l.profileId,
        upserts: plan.upserts,
        removeStopAll: plan.removeStopAll,
        at: now,
        source: 'preferences_page',
      })
    })
    return reply.redirect(`${req.url.split('?')[0]}?saved=1`, 303)
  })
}
