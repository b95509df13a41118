// `nudge simulate` offline, run as a child process: journey files and an NDJSON file of
// Segment messages in, who would get what and when out. No server, nothing written.
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli } from '../admin/cli-server.ts'

const examples = join(import.meta.dirname, '../../examples')
const journey = (name: string) => join(examples, 'journeys', `${name}.yaml`)

/** A journey file: on Posted, a mail to the members for whom `when` (YAML) holds. */
async function postedJourney(file: string, id: string, when: string): Promise<string> {
  await writeFile(
    file,
    [
      `id: ${id}`,
      `name: ${id}`,
      'trigger: { type: event, event: Posted }',
      'entry: { type: every_time }',
      'steps:',
      '  - id: who',
      '    type: branch',
      '    paths:',
      '      - name: chosen',
      `        when: ${when}`,
      '        steps: [{ id: thanks, type: send, channel: email, template: welcome }]',
    ].join('\n'),
  )
  return file
}

describe('nudge simulate --events', () => {
  let dir: string
  let events: string
  // No NUDGE_URL server exists: an offline simulation must not need one.
  const cli = (...args: string[]) => runCli(args, { NUDGE_URL: 'http://127.0.0.1:9', NUDGE_ADMIN_KEY: '' })

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nudge-simulate-'))
    events = join(dir, 'events.ndjson')
    const comment = (id: string, at: string) => ({
      type: 'track',
      userId: 'dan',
      event: 'Moderation Comment Received',
      properties: { comment: 'read-the-rules', comment_id: id },
      timestamp: at,
    })
    await writeFile(
      events,
      [
        { type: 'track', userId: 'ann', event: 'Signed Up', timestamp: '2026-03-02T10:00:00Z' },
        { type: 'track', userId: 'bob', event: 'Signed Up', timestamp: '2026-03-02T10:00:00Z' },
        { type: 'track', userId: 'bob', event: 'Unsubscribed', timestamp: '2026-03-05T08:00:00Z' },
        comment('c1', '2026-03-03T08:00:00Z'),
        comment('c2', '2026-03-04T08:00:00Z'),
        { type: 'track', event: 'Nobody', timestamp: '2026-03-04T08:00:00Z' },
      ]
        .map((e) => JSON.stringify(e))
        .concat(['not json', ''])
        .join('\n'),
    )
  })
  afterAll(() => rm(dir, { recursive: true, force: true }))

  it('prints one line per send in time order, then the totals with the skip reasons', async () => {
    const res = await cli(
      'simulate',
      journey('welcome-series'),
      journey('rules-reminder'),
      '--events',
      events,
      '--until',
      '2026-04-01T00:00:00Z',
    )
    const [sends, totals] = res.stdout.split('\n\n') as [string, string]
    expect(sends.split('\n')).toEqual([
      '2026-03-02 10:00 UTC  ann  email:welcome                       welcome-series',
      '2026-03-02 10:00 UTC  bob  email:welcome                       welcome-series',
      '2026-03-03 08:00 UTC  dan  email:charter-reminder              rules-reminder',
      '2026-03-04 10:00 UTC  ann  email:newcomer-1-find-your-way      welcome-series',
      '2026-03-04 10:00 UTC  bob  email:newcomer-1-find-your-way      welcome-series',
      '2026-03-07 10:00 UTC  ann  email:newcomer-2-first-post         welcome-series',
      '2026-03-11 10:00 UTC  ann  email:newcomer-3-meet-the-regulars  welcome-series',
    ])
    expect(totals.trim().split('\n')).toEqual([
      '5 events from 2026-03-02 10:00 UTC to 2026-04-01 00:00 UTC: nothing was sent or stored.',
      'entered                         3',
      'sent                            7',
      '  charter-reminder              1',
      '  newcomer-1-find-your-way      2',
      '  newcomer-2-first-post         1',
      '  newcomer-3-meet-the-regulars  1',
      '  welcome                       2',
      'converted                       0',
      'exited                          1',
      'completed                       2',
      'failed                          0',
      'in flight                       0',
      'skipped                         1',
      '  at most 1 per 7d              1',
    ])
    // Bad lines are reported and left out; the rest is still simulated.
    expect(res.stderr).toContain('line 6: userId: userId or anonymousId is required')
    expect(res.stderr).toMatch(/line 7: not JSON/)
    expect(res.code).toBe(1)
  })

  it('answers JSON with --json, and ends 30 days after the last event by default', async () => {
    const res = await cli('simulate', journey('welcome-series'), '--events', events, '--json')
    const out = JSON.parse(res.stdout) as {
      until: string
      sends: { at: string; profileId: string; template: string }[]
      totals: { entered: number; exited: number }
    }
    expect(out.until).toBe('2026-04-04T08:00:00.000Z')
    expect(out.sends.filter((s) => s.profileId === 'bob').map((s) => s.template)).toEqual([
      'welcome',
      'newcomer-1-find-your-way',
    ])
    expect(out.totals).toMatchObject({ entered: 2, exited: 1 })
  })

  it('checks the journeys against a templates folder, and says how to call it', async () => {
    const templates = join(dir, 'templates')
    await mkdir(templates)
    await copyFile(join(examples, 'templates', 'welcome.yaml'), join(templates, 'welcome.yaml'))
    const missing = await cli(
      'simulate',
      journey('welcome-series'),
      '--events',
      events,
      '--templates',
      templates,
    )
    expect(missing.code).toBe(1)
    expect(missing.stderr).toContain(
      'steps[2].template: unknown template newcomer-1-find-your-way (create the template first, or fix its name)',
    )
    const ok = await cli(
      'simulate',
      journey('welcome-series'),
      '--events',
      events,
      '--templates',
      join(examples, 'templates'),
    )
    expect(ok.stdout).toContain('ann  email:welcome')
    const usage = await cli('simulate', journey('welcome-series'))
    expect(usage.code).toBe(2)
    expect(usage.stderr).toContain(
      'Usage: nudge simulate <journey files...> (--events <file.ndjson> | --since',
    )
    const noFile = await cli('simulate', journey('welcome-series'), '--events', join(dir, 'nope.ndjson'))
    expect(noFile.stderr).toContain(`Cannot read ${join(dir, 'nope.ndjson')}`)
  })

  it("judges stage conditions by --funnel's stages, the members' stages by their Stage Entered events", async () => {
    const thanks = await postedJourney(
      join(dir, 'regulars-thanks.yaml'),
      'regulars-thanks',
      '{ type: stage, op: gte, stage: regular }',
    )
    const funnel = join(dir, 'funnel.yaml')
    const stage = (id: string, name: string) =>
      `  - { id: ${id}, name: ${name}, criteria: { type: performed, event: Signed Up, min: 1 } }`
    await writeFile(
      funnel,
      ['stages:', stage('newcomer', 'Newcomer'), stage('regular', 'Regular'), stage('pillar', 'Pillar')].join(
        '\n',
      ),
    )
    const history = join(dir, 'stages.ndjson')
    const entered = (userId: string, s: string, at: string) => ({
      type: 'track',
      userId,
      event: 'Stage Entered',
      properties: { stage: s },
      timestamp: at,
    })
    await writeFile(
      history,
      [
        entered('ann', 'pillar', '2026-03-01T10:00:00Z'),
        entered('bob', 'newcomer', '2026-03-01T10:00:00Z'),
        entered('cat', 'regular', '2026-03-01T10:00:00Z'),
        entered('cat', 'newcomer', '2026-03-01T11:00:00Z'),
        ...['ann', 'bob', 'cat'].map((userId) => ({
          type: 'track',
          userId,
          event: 'Posted',
          timestamp: '2026-03-02T10:00:00Z',
        })),
      ]
        .map((e) => JSON.stringify(e))
        .join('\n'),
    )
    const run = (...more: string[]) => cli('simulate', thanks, '--events', history, '--json', ...more)
    const sentTo = (stdout: string) =>
      (JSON.parse(stdout) as { sends: { profileId: string }[] }).sends.map((x) => x.profileId)
    // ann is a pillar, above regular; cat was a regular but went back to newcomer.
    const custom = await run('--funnel', funnel)
    expect(custom.code).toBe(0)
    expect(sentTo(custom.stdout)).toEqual(['ann'])
    // Under the default funnel these stages are unknown: no member is at least "regular".
    expect(sentTo((await run()).stdout)).toEqual([])
    await writeFile(funnel, 'stages:\n  - { id: newcomer, name: Newcomer, stuck_afte: 3d }\n')
    const wrong = await run('--funnel', funnel)
    expect(wrong.code).toBe(1)
    expect(wrong.stderr).toContain(`${funnel}: stages[0]`)
    expect(wrong.stderr).toContain('stuck_afte')
  })

  it('gives simulated members the badges and segments of their Badge and Segment events', async () => {
    const helpers = await postedJourney(
      join(dir, 'helpers-thanks.yaml'),
      'helpers-thanks',
      '{ type: all, conditions: [{ type: badge, badge: helper, has: true }, { type: segment, segment: regulars, member: true }] }',
    )
    const track = (userId: string, event: string, properties: Record<string, unknown>, at: string) => ({
      type: 'track',
      userId,
      event,
      properties,
      timestamp: at,
    })
    const history = join(dir, 'badges.ndjson')
    await writeFile(
      history,
      [
        // ann holds both; bob lost his badge; cat left the segment.
        track('ann', 'Badge Awarded', { badge: 'helper' }, '2026-03-01T10:00:00Z'),
        track('ann', 'Segment Entered', { segment: 'regulars' }, '2026-03-01T10:00:00Z'),
        track('bob', 'Badge Awarded', { badge: 'helper' }, '2026-03-01T10:00:00Z'),
        track('bob', 'Segment Entered', { segment: 'regulars' }, '2026-03-01T10:00:00Z'),
        track('bob', 'Badge Revoked', { badge: 'helper' }, '2026-03-01T11:00:00Z'),
        track('cat', 'Badge Awarded', { badge: 'helper' }, '2026-03-01T10:00:00Z'),
        track('cat', 'Segment Entered', { segment: 'regulars' }, '2026-03-01T10:00:00Z'),
        track('cat', 'Segment Exited', { segment: 'regulars' }, '2026-03-01T11:00:00Z'),
        ...['ann', 'bob', 'cat'].map((userId) => track(userId, 'Posted', {}, '2026-03-02T10:00:00Z')),
      ]
        .map((e) => JSON.stringify(e))
        .join('\n'),
    )
    const res = await cli('simulate', helpers, '--events', history, '--json')
    expect(res.code).toBe(0)
    expect(
      (JSON.parse(res.stdout) as { sends: { profileId: string }[] }).sends.map((x) => x.profileId),
    ).toEqual(['ann'])
  })

  it('says what is wrong with a --funnel file, and takes a saved answer of the funnel route', async () => {
    const empty = join(dir, 'empty-funnel.yaml')
    await writeFile(empty, '')
    const none = await cli('simulate', journey('welcome-series'), '--events', events, '--funnel', empty)
    expect(none.code).toBe(1)
    expect(none.stderr).toContain(`${empty}: (the document): `)
    const missing = await cli(
      'simulate',
      journey('welcome-series'),
      '--events',
      events,
      '--funnel',
      join(dir, 'nope.yaml'),
    )
    expect(missing.stderr).toContain(`Cannot read ${join(dir, 'nope.yaml')} (ENOENT)`)
    const saved = join(dir, 'saved-funnel.json')
    await writeFile(
      saved,
      JSON.stringify({
        config: { stages: [{ id: 'a', name: 'A', criteria: { type: 'all', conditions: [] } }] },
      }),
    )
    const ok = await cli('simulate', journey('welcome-series'), '--events', events, '--funnel', saved)
    expect(ok.stderr).not.toContain(saved)
    expect(ok.stdout).toContain('email:welcome')
  })
})
