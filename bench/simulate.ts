// Simulator throughput: the demo community (BENCH_MEMBERS members over 182 days) replayed
// through every example journey, as `nudge simulate --events` does, without the file.
// Usage: npm run bench:simulate
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { community } from '../src/cli/demo/community.ts'
import { evaluate } from '../src/domain/conditions/evaluate.ts'
import { normalizeEvent } from '../src/domain/events/normalize.ts'
import { formatIssue, parseJourneyDocument } from '../src/domain/journeys/parse.ts'
import { type SimulationEvent, simulate } from '../src/domain/journeys/simulate.ts'
import { journeyEventOf, STAGES } from '../src/runtime/journeys/runtime.ts'

const members = Number(process.env.BENCH_MEMBERS ?? 2000)
const dir = join(import.meta.dirname, '../examples/journeys')
const journeys = readdirSync(dir)
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => {
    const parsed = parseJourneyDocument(readFileSync(join(dir, f), 'utf8'), f)
    if (!parsed.ok) throw new Error(parsed.errors.map(formatIssue).join('\n'))
    return parsed.journey
  })

const end = new Date('2026-06-30T00:00:00Z')
const events: SimulationEvent[] = []
for (const call of community({ members, days: 182, end, seed: 7 })) {
  const r = normalizeEvent(call, undefined, {
    workspaceId: 'bench',
    receivedAt: end,
    newMessageId: () => 'x',
  })
  if (r.ok)
    events.push({ profileId: r.event.userId ?? r.event.anonymousId ?? '', event: journeyEventOf(r.event) })
}

const started = performance.now()
const result = simulate(journeys, events, {
  start: new Date(end.getTime() - 183 * 86_400_000),
  end: new Date(end.getTime() + 30 * 86_400_000),
  evaluate,
  stages: STAGES,
})
const seconds = (performance.now() - started) / 1000
console.log(
  JSON.stringify({
    members,
    journeys: journeys.length,
    events: result.totals.events,
    runs: result.totals.entered,
    sends: result.totals.sends,
    seconds: Number(seconds.toFixed(2)),
    eventsPerSecond: Math.round(result.totals.events / seconds),
  }),
)
