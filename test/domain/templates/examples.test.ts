// The example templates the example journeys use: all valid, all rendering against a
// realistic profile and event, with the parts each channel needs.
import { describe, expect, it } from 'vitest'
import { compileTemplate, renderTemplate } from '../../../src/domain/templates/render.ts'
import type { TemplateContext } from '../../../src/domain/templates/types.ts'
import { loadTemplateFolder } from '../../../src/store/template-files.ts'

const dir = new URL('../../../examples/templates/', import.meta.url).pathname

const context = (
  properties: Record<string, unknown> = {},
  traits: Record<string, unknown> = { first_name: 'Ann' },
): TemplateContext => ({
  profile: { id: 'p-ann', user_id: 'ann', email: 'ann@example.com', traits },
  event: { name: 'Signed Up', properties },
  links: { unsubscribe: 'https://n.example/u/t1?a=1&b=2', preferences: 'https://n.example/p/t2' },
})

const loaded = loadTemplateFolder(dir)

async function render(name: string, ctx: TemplateContext) {
  const folder = await loaded
  const def = folder.templates.get(name)
  if (!def) throw new Error(`no template ${name}`)
  const c = compileTemplate(def)
  if (!c.ok) throw new Error(c.error.message)
  return { def, result: renderTemplate(c.template, ctx) }
}

describe('example templates', () => {
  it('all parse, and cover every message of the example journeys', async () => {
    const folder = await loadTemplateFolder(dir)
    expect(folder.errors).toEqual([])
    expect([...folder.templates.keys()].sort()).toEqual([
      'airport-ride-offer',
      'charter-reminder',
      'feedback-ask',
      'finish-your-booking',
      'finish-your-booking-push',
      'how-to-upload-contacts',
      'newcomer-1-find-your-way',
      'newcomer-2-first-post',
      'newcomer-3-meet-the-regulars',
      'photo-tip-beginners-guide',
      'welcome',
    ])
  })

  it('every one renders for a member with a first name, and for one without', async () => {
    const folder = await loaded
    const props = {
      trip_id: 'T 42',
      destination: 'Lisbon',
      place_name: 'Lyon Airport',
      post_url: 'https://photoclub.example/p/1',
    }
    for (const name of folder.templates.keys()) {
      for (const traits of [{ first_name: 'Ann' }, {}]) {
        const { def, result } = await render(name, context(props, traits))
        expect(result.ok, `${name}: ${result.ok ? '' : result.error.message}`).toBe(true)
        if (!result.ok) continue
        expect(result.parts.text.length, name).toBeGreaterThan(20)
        if (def.channel === 'email' || def.channel === 'push') expect(result.parts.subject, name).toBeTruthy()
        if (def.category === 'marketing' && def.channel === 'email' && result.parts.html) {
          expect(result.parts.html, `${name} links to unsubscribe or preferences`).toMatch(
            /n\.example\/(u|p)\//,
          )
        }
      }
    }
  })

  it('the beginner tip mentions the beginners guide', async () => {
    const { result } = await render(
      'photo-tip-beginners-guide',
      context({ topic_title: 'Blurry photos indoors' }),
    )
    expect(result.ok && result.parts.text).toContain("beginners' guide")
    expect(result.ok && result.parts.html).toContain('("Blurry photos indoors")')
  })

  it('the feedback ask is plain text from a person', async () => {
    const { def, result } = await render('feedback-ask', context())
    expect(def.from).toBe('Claire Dubois <claire@photoclub.example>')
    expect(result.ok && result.parts.html).toBeUndefined()
    expect(result.ok && result.parts.text.startsWith('Hi Ann,\n')).toBe(true)
  })

  it('the booking push leads to the trip, URL-encoded', async () => {
    const { result } = await render(
      'finish-your-booking-push',
      context({ trip_id: 'T 42', destination: 'Lisbon' }),
    )
    expect(result).toEqual({
      ok: true,
      parts: {
        subject: 'Finish your booking',
        text: 'Your trip to Lisbon is still available. Tap to pick up where you left off.',
        url: 'https://rides.example/booking?trip=T+42',
      },
    })
  })

  it('the booking mail without a trip id is an explicit error naming it', async () => {
    const { result } = await render('finish-your-booking', context({ destination: 'Lisbon' }))
    expect(result.ok || result.error.variable).toBe('event.properties.trip_id')
  })
})
