import { describe, expect, it } from 'vitest'
import { parseTemplate, parseTemplateFile } from '../../../src/domain/templates/parse.ts'
import { compileTemplate, renderTemplate } from '../../../src/domain/templates/render.ts'
import type { TemplateContext, TemplateDefinition } from '../../../src/domain/templates/types.ts'

const ctx: TemplateContext = {
  profile: { id: 'p1', user_id: 'u1', email: 'ann@example.com', traits: { first_name: 'Ann', city: 'Lyon' } },
  event: { name: 'Signed Up', properties: { plan: 'free' } },
  journey: { id: 'welcome-series', name: 'Welcome series' },
  links: { unsubscribe: 'https://n.example/u/abc', preferences: 'https://n.example/p/abc' },
}

function render(def: Partial<TemplateDefinition>, context: TemplateContext = ctx) {
  const compiled = compileTemplate({ name: 't', channel: 'email', category: 'marketing', ...def })
  if (!compiled.ok) return { ok: false as const, error: compiled.error }
  return renderTemplate(compiled.template, context)
}

describe('template rendering', () => {
  it('personalises subject and body from the profile, the event and the links', () => {
    const r = render({
      subject: 'Welcome {{ profile.traits.first_name }}',
      text: 'Plan {{ event.properties.plan }} in {{ profile.traits.city }}. Leave: {{ links.unsubscribe }}',
    })
    expect(r).toEqual({
      ok: true,
      parts: { subject: 'Welcome Ann', text: 'Plan free in Lyon. Leave: https://n.example/u/abc' },
    })
  })

  it('a missing variable is an error naming the variable, the part and the template', () => {
    const r = render({ subject: 'Hi', text: 'Hello {{ profile.traits.nickname }}!' })
    expect(r.ok).toBe(false)
    if (r.ok) return
    expect(r.error.variable).toBe('profile.traits.nickname')
    expect(r.error.part).toBe('text')
    expect(r.error.template).toBe('t')
    expect(r.error.message).toContain('profile.traits.nickname')
  })

  it('the default filter stands in for a missing variable', () => {
    const r = render({ subject: 'Hi {{ profile.traits.nickname | default: "there" }}', text: 'x' })
    expect(r.ok && r.parts.subject).toBe('Hi there')
  })

  it('a missing variable in an if is just false', () => {
    const r = render({ subject: 's', text: '{% if profile.traits.vip %}VIP{% else %}member{% endif %}' })
    expect(r.ok && r.parts.text).toBe('member')
  })

  it('cannot include files from the disk', () => {
    for (const tag of ["{% include '/etc/passwd' %}", "{% render 'package.json' %}", "{% layout 'x' %}y"]) {
      const r = render({ subject: 's', text: tag })
      expect(r.ok, tag).toBe(false)
      if (!r.ok) expect(r.error.message).toContain('Failed to lookup')
    }
  })

  it('cannot walk prototypes to reach the process', () => {
    const r = render({ subject: 's', text: '{{ profile.constructor.constructor }}' })
    expect(r.ok || r.error.variable).toBe('profile.constructor')
    const r2 = render({ subject: 's', text: '{{ profile.traits.__proto__ }}' })
    expect(r2.ok || r2.error.variable).toBe('profile.traits.__proto__')
  })

  it('stops a render that loops too long', () => {
    const r = render({ subject: 's', text: '{% for i in (1..100000000) %}{{ i }}{% endfor %}' })
    expect(r.ok || r.error.message).toMatch(/limit exceeded/)
  })

  it('escapes profile data in HTML but not in text', () => {
    const evil: TemplateContext = {
      ...ctx,
      profile: { ...ctx.profile, traits: { first_name: '<b>Ann</b>' } },
    }
    const r = render(
      { subject: '{{ profile.traits.first_name }}', html: '<p>Hi {{ profile.traits.first_name }}</p>' },
      evil,
    )
    expect(r.ok && r.parts.html).toBe('<p>Hi &lt;b&gt;Ann&lt;/b&gt;</p>')
    expect(r.ok && r.parts.subject).toBe('<b>Ann</b>')
  })

  it('generates the text part from HTML when there is none', () => {
    const r = render({
      subject: 's',
      html: '<h1>Welcome, {{ profile.traits.first_name }}</h1><p>Read the <a href="https://x.example/guide">beginners\' guide</a>.</p><img src="https://x.example/p.gif">',
    })
    expect(r.ok).toBe(true)
    if (!r.ok) return
    expect(r.parts.text).toContain('Welcome, Ann')
    expect(r.parts.text).toContain("beginners' guide [https://x.example/guide]")
    expect(r.parts.text).not.toContain('<')
  })

  it('a syntax error or an unknown filter is found when the template is checked', () => {
    const bad = parseTemplate({ name: 'x', channel: 'email', subject: 's', text: '{{ a | nope }}' })
    expect(bad.ok).toBe(false)
    const bad2 = parseTemplate({ name: 'x', channel: 'email', subject: 's', text: '{% if %}' })
    expect(bad2.ok).toBe(false)
  })
})

describe('template files', () => {
  it('reads a YAML template and takes its name from the file', () => {
    const r = parseTemplateFile(
      'templates/welcome.yaml',
      'channel: email\ntopic: community\nsubject: "Hi {{ profile.traits.first_name }}"\nhtml: |\n  <p>Hello</p>\n',
    )
    expect(r).toMatchObject({
      ok: true,
      template: { name: 'welcome', channel: 'email', category: 'marketing' },
    })
  })

  it('says which part a channel is missing', () => {
    const r = parseTemplateFile('p.yaml', 'channel: push\nsubject: Ride?\n')
    expect(r).toEqual({ ok: false, issues: [{ path: 'text', message: expect.stringContaining('push') }] })
  })

  it('rejects unknown fields', () => {
    const r = parseTemplateFile('p.yaml', 'channel: sms\ntext: hi\nbody: typo\n')
    expect(r.ok).toBe(false)
  })
})
