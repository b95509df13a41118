// What `nudge simulate` prints: one line per send in time order, then the totals, with the
// reasons entries were skipped grouped (their dates and keys taken out).
import type { SimulationResult } from '../../domain/journeys/simulate.ts'

const minute = (d: Date) => `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`

/** "skipped: at most 1 per 7d, last entered on 2026-…Z" → "at most 1 per 7d". */
export function skipReason(message: string): string {
  return message
    .replace(/^skipped: /, '')
    .replace(/,? ?(last entered )?on \d{4}-\d\d-\d\dT[\d:.]+Z/g, '')
    .replace(/for key \S+/, 'for the same key')
    .trim()
}

export function skipReasons(result: SimulationResult): Record<string, number> {
  const out: Record<string, number> = {}
  for (const t of result.trace)
    if (t.kind === 'skipped') out[skipReason(t.message)] = (out[skipReason(t.message)] ?? 0) + 1
  return out
}

/** Rows as aligned "name  value" lines; a row's name may start with spaces (a detail line). */
function table(rows: readonly (readonly [string, string | number])[]): string[] {
  const width = Math.max(0, ...rows.map(([k]) => k.length))
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`)
}

const details = (counts: Readonly<Record<string, number>>) =>
  Object.entries(counts)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => [`  ${k}`, v] as const)

export function textReport(result: SimulationResult, window: { from: Date; until: Date }): string {
  const sends = [...result.sends].sort((a, b) => a.at.getTime() - b.at.getTime())
  const who = Math.max(0, ...sends.map((s) => s.profileId.length))
  const what = Math.max(0, ...sends.map((s) => s.channel.length + s.template.length + 1))
  const lines = sends.map(
    (s) =>
      `${minute(s.at)}  ${s.profileId.padEnd(who)}  ${`${s.channel}:${s.template}`.padEnd(what)}  ${s.journeyId}`,
  )
  const t = result.totals
  const skipped = skipReasons(result)
  const summary = [
    `${t.events} events from ${minute(window.from)} to ${minute(window.until)}: nothing was sent or stored.`,
    ...table([
      ['entered', t.entered],
      ['sent', t.sends],
      ...details(t.sendsByTemplate),
      ['converted', t.converted],
      ['exited', t.exited],
      ['completed', t.completed],
      ['failed', t.failed],
      ['in flight', t.inFlight],
      ['skipped', t.skipped],
      ...details(skipped),
    ]),
  ]
  return `${[...(lines.length ? lines : ['No message would be sent.']), '', ...summary].join('\n')}\n`
}

export function jsonReport(result: SimulationResult, window: { from: Date; until: Date }) {
  return {
    from: window.from.toISOString(),
    until: window.until.toISOString(),
    sends: [...result.sends]
      .sort((a, b) => a.at.getTime() - b.at.getTime())
      .map((s) => ({
        at: s.at.toISOString(),
        profileId: s.profileId,
        journeyId: s.journeyId,
        stepId: s.stepId,
        channel: s.channel,
        template: s.template,
      })),
    totals: result.totals,
    skipped: skipReasons(result),
  }
}
