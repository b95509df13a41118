import { afterAll, beforeAll, expect, it } from 'vitest'
import { applyJourney } from '../../src/store/journeys.ts'
import { describeEachDriver } from '../helpers/db.ts'
import { type AdminFixture, adminFixture, otherWorkspace } from './helpers.ts'

const welcomeTemplate = {
  channel: 'email',
  subject: 'Welcome {{ profile.traits.name | default: "" }}',
  text: 'Hi',
}

const welcome = {
  id: 'welcome',
  name: 'Welcome',
  trigger: { type: 'event', event: 'Signed Up' },
  entry: { type: 'once' },
  steps: [
    { id: 'wait-a-day', type: 'delay', for: '1d' },
    { id: 'hello', type: 'send', channel: 'email', template: 'welcome' },
  ],
}

describeEachDriver('admin API: journeys and templates', (driver) => {
  let f: AdminFixture
  const call = async (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: unknown) => {
    const res = await f.app.inject({
      method,
      url,
      headers: f.auth,
      ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
    })
    return { status: res.statusCode, body: res.json() }
  }
  const versionCount = async () =>
    (await f.db.query<{ n: number }>('SELECT count(*)::int AS n FROM journey_versions'))[0]?.n

  beforeAll(async () => {
    f = await adminFixture(driver)
  })
  afterAll(() => f.close())

  it('refuses a journey whose template does not exist yet, with the path and a hint, storing nothing', async () => {
    const res = await call('POST', '/api/v1/journeys', welcome)
    expect(res.status).toBe(400)
    expect(res.body.error.code).toBe('NUDGE_ERR_JOURNEY_INVALID')
    expect(res.body.error.issues).toEqual([
      {
        path: 'body.steps[1].template',
        message: 'unknown template welcome',
        hint: 'create the template first, or fix its name',
      },
    ])
    expect(await versionCount()).toBe(0)
    expect((await call('GET', '/api/v1/journeys')).body.items).toEqual([])
  })

  it('stores templates, checks them, and changes nothing on the same content', async () => {
    const bad = await call('PUT', '/api/v1/templates/welcome', { channel: 'email', text: 'Hi {% if %}' })
    expect(bad.status).toBe(400)
    expect(bad.body.error.code).toBe('NUDGE_ERR_TEMPLATE_INVALID')
    expect(bad.body.error.issues).toContainEqual({
      path: 'body.subject',
      message: 'an email template needs a subject',
    })
    expect((await call('GET', '/api/v1/templates/welcome')).status).toBe(404)

    const created = await call('PUT', '/api/v1/templates/welcome', welcomeTemplate)
    expect(created.status).toBe(200)
    expect(created.body.outcome).toBe('created')
    expect(created.body.template.definition).toMatchObject({ name: 'welcome', category: 'marketing' })
    expect((await call('PUT', '/api/v1/templates/welcome', welcomeTemplate)).body.outcome).toBe('unchanged')
    const updated = await call('PUT', '/api/v1/templates/welcome', { ...welcomeTemplate, text: 'Hello' })
    expect(updated.body.outcome).toBe('updated')
    const mismatch = await call('PUT', '/api/v1/templates/welcome', { ...welcomeTemplate, name: 'other' })
    expect(mismatch.body.error.issues[0].path).toBe('body.name')
    const list = await call('GET', '/api/v1/templates')
    expect(list.body.items.map((t: { name: string; channel: string }) => [t.name, t.channel])).toEqual([
      ['welcome', 'email'],
    ])
    expect((await call('GET', '/api/v1/templates/welcome')).body.definition.text).toBe('Hello')
  })

  it('creates a journey, ignores the same document, and versions a change', async () => {
    const created = await call('POST', '/api/v1/journeys', welcome)
    expect(created.status).toBe(200)
    expect(created.body).toMatchObject({
      outcome: 'created',
      version: 1,
      journey: { id: 'welcome', status: 'draft', liveVersion: null, latestVersion: 1 },
    })
    const reordered = {
      steps: welcome.steps,
      entry: welcome.entry,
      trigger: welcome.trigger,
      name: 'Welcome',
      id: 'welcome',
    }
    expect((await call('POST', '/api/v1/journeys', reordered)).body.outcome).toBe('unchanged')
    const v2 = await call('POST', '/api/v1/journeys', { ...welcome, name: 'Welcome, newcomer' })
    expect(v2.body).toMatchObject({
      outcome: 'versioned',
      version: 2,
      journey: { name: 'Welcome, newcomer' },
    })
    expect(await versionCount()).toBe(2)

    const detail = await call('GET', '/api/v1/journeys/welcome')
    expect(detail.body).toMatchObject({ status: 'draft', liveVersion: null, latestVersion: 2 })
    expect(detail.body.versions.map((v: { version: number }) => v.version)).toEqual([1, 2])
    const first = await call('GET', '/api/v1/journeys/welcome/versions/1')
    expect(first.body.definition).toEqual(welcome)
    expect((await call('GET', '/api/v1/journeys/welcome/versions/3')).status).toBe(404)
    expect((await call('GET', '/api/v1/journeys/nope')).status).toBe(404)
  })

  it('reports every issue of a bad document at once and keeps the stored versions as they were', async () => {
    const res = await call('POST', '/api/v1/journeys', {
      ...welcome,
      steps: [
        { id: 'a', type: 'wait', for: { event: 'Post Created' } },
        { id: 'a', type: 'send', channel: 'pigeon', template: 'welcome' },
        { id: 'b', type: 'send', channel: 'sms', template: 'welcome' },
      ],
    })
    expect(res.status).toBe(400)
    expect(res.body.error.issues).toEqual(
      expect.arrayContaining([
        { path: 'body.steps[0].timeout', message: 'a wait needs a timeout, e.g. timeout: 3d' },
        {
          path: 'body.steps[1].id',
          message: 'step id a is used twice (also at steps[0])',
          hint: 'give each step its own id',
        },
        {
          path: 'body.steps[1].channel',
          message: 'unknown channel pigeon',
          hint: 'use one of email, sms, push, webhook, in_app',
        },
        {
          path: 'body.steps[2].template',
          message: 'template welcome is written for email, but this step sends by sms',
          hint: 'use channel: email, or a template written for sms',
        },
      ]),
    )
    expect(await versionCount()).toBe(2)
    expect((await call('GET', '/api/v1/journeys/welcome')).body.latestVersion).toBe(2)
  })

  it('refuses a journey that would start itself again and again without a delay', async () => {
    const res = await call('POST', '/api/v1/journeys', {
      id: 'echo',
      name: 'Echo',
      trigger: { type: 'event', event: 'Journey Entered' },
      entry: { type: 'every_time' },
      steps: [{ type: 'send', channel: 'email', template: 'welcome' }],
    })
    expect(res.status).toBe(400)
    expect(res.body.error.issues).toEqual([
      expect.objectContaining({
        path: 'body.trigger',
        message:
          'this journey starts itself again and again without a delay: entering it emits Journey Entered, which matches its own trigger',
      }),
    ])
    expect((await call('GET', '/api/v1/journeys/echo')).status).toBe(404)
  })

  it('publishes the latest or an older version, pauses, resumes and archives', async () => {
    const latest = await call('POST', '/api/v1/journeys/welcome/publish')
    expect(latest.body).toMatchObject({ status: 'published', liveVersion: 2 })
    const older = await call('POST', '/api/v1/journeys/welcome/publish', { version: 1 })
    expect(older.body).toMatchObject({ status: 'published', liveVersion: 1, latestVersion: 2 })
    expect((await call('POST', '/api/v1/journeys/welcome/publish', { version: 9 })).status).toBe(404)

    expect((await call('POST', '/api/v1/journeys/welcome/resume')).status).toBe(409)
    expect((await call('POST', '/api/v1/journeys/welcome/pause')).body.status).toBe('paused')
    expect((await call('POST', '/api/v1/journeys/welcome/pause')).body.error.code).toBe(
      'NUDGE_ERR_JOURNEY_STATE',
    )
    // Resuming keeps the version that was live (1), not the latest.
    expect((await call('POST', '/api/v1/journeys/welcome/resume')).body).toMatchObject({
      status: 'published',
      liveVersion: 1,
    })
    const del = await call('DELETE', '/api/v1/journeys/welcome')
    expect(del.status).toBe(409)
    expect(del.body.error.message).toContain('archive it instead')
    expect((await call('POST', '/api/v1/journeys/welcome/archive')).body.status).toBe('archived')
    const again = await call('POST', '/api/v1/journeys/welcome/publish')
    expect(again.status).toBe(409)
    expect(again.body.error.message).toBe('Journey "welcome" is archived; it cannot be published')
  })

  it('deletes a draft that was never published, with its versions', async () => {
    await call('POST', '/api/v1/journeys', { ...welcome, id: 'draft-only', name: 'Draft' })
    const res = await call('DELETE', '/api/v1/journeys/draft-only')
    expect(res.body).toEqual({ id: 'draft-only', deleted: true })
    expect((await call('GET', '/api/v1/journeys/draft-only')).status).toBe(404)
    const rows = await f.db.query("SELECT 1 FROM journey_versions WHERE journey_id = 'draft-only'")
    expect(rows).toEqual([])
  })

  it('applies a new journey created by another transaction meanwhile on top of it', async () => {
    const doc = { ...welcome, id: 'twice', name: 'Twice' }
    let release = () => {}
    const gate = new Promise<void>((r) => {
      release = r
    })
    // One transaction creates the journey and holds it; the API request arrives meanwhile.
    const held = f.db.transaction(async (tx) => {
      await applyJourney(tx, 'default', doc)
      await gate
    })
    const post = call('POST', '/api/v1/journeys', doc)
    if (driver === 'pg') {
      // Wait until the request is blocked on the row the held transaction inserted.
      for (;;) {
        const waiting = await f.db.query(
          "SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()",
        )
        if (waiting.length > 0) break
        await new Promise((r) => setImmediate(r))
      }
    }
    release()
    await held
    const answer = await post
    expect(answer.status).toBe(200)
    expect(answer.body.outcome).toBe('unchanged')
    const rows = await f.db.query("SELECT version FROM journey_versions WHERE journey_id = 'twice'")
    expect(rows).toEqual([{ version: 1 }])
  })

  it('keeps journeys and templates inside their workspace', async () => {
    const otherKey = await otherWorkspace(f.db, 'other-ws')
    const headers = { authorization: `Bearer ${otherKey}` }
    const list = await f.app.inject({ method: 'GET', url: '/api/v1/journeys', headers })
    expect(list.json().items).toEqual([])
    // The other workspace has no "welcome" template, so the same journey is refused there.
    const post = await f.app.inject({ method: 'POST', url: '/api/v1/journeys', headers, payload: welcome })
    expect(post.json().error.issues[0].message).toBe('unknown template welcome')
  })

  it('documents every journey and template route in OpenAPI', async () => {
    const doc = (await f.app.inject({ method: 'GET', url: '/api/openapi.json' })).json()
    const ops = Object.entries(doc.paths as Record<string, Record<string, unknown>>)
      .filter(([p]) => p.startsWith('/api/v1/journeys') || p.startsWith('/api/v1/templates'))
      .flatMap(([p, m]) => Object.keys(m).map((verb) => `${verb.toUpperCase()} ${p}`))
    expect(ops.sort()).toEqual([
      'DELETE /api/v1/journeys/{id}',
      'GET /api/v1/journeys',
      'GET /api/v1/journeys/{id}',
      'GET /api/v1/journeys/{id}/versions/{version}',
      'GET /api/v1/templates',
      'GET /api/v1/templates/{name}',
      'POST /api/v1/journeys',
      'POST /api/v1/journeys/{id}/archive',
      'POST /api/v1/journeys/{id}/pause',
      'POST /api/v1/journeys/{id}/publish',
      'POST /api/v1/journeys/{id}/resume',
      'POST /api/v1/templates/preview',
      'POST /api/v1/templates/{name}/preview',
      'POST /api/v1/templates/{name}/send-test',
      'PUT /api/v1/templates/{name}',
    ])
  })
})
