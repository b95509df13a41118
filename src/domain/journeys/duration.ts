// Durations as written in journey files: "30m", "2h", "3d", "1w", combinations such as
// "1d12h", and a leading "-" for offsets before a date ("-7d"). Kept in one file so the
// condition evaluator's parser can replace it when both land.

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const
const WHOLE = /^-?(\d+[smhdw])+$/
const PART = /(\d+)([smhdw])/g

/** Milliseconds, or null when the text is not a duration. Days are 24 hours exactly. */
export function parseDuration(text: string): number | null {
  const t = text.trim()
  if (!WHOLE.test(t)) return null
  let ms = 0
  for (const m of t.matchAll(PART)) ms += Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS]
  return t.startsWith('-') ? -ms : ms
}

export function isDuration(text: string): boolean {
  return parseDuration(text) !== null
}

/** Milliseconds of a duration already validated by the schema (a bug otherwise). */
export function durationMs(text: string): number {
  const ms = parseDuration(text)
  if (ms === null) throw new Error(`not a duration: ${text}`)
  return ms
}
