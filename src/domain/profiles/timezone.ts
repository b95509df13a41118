// A member's timezone, used later for quiet hours and "at 9:00 local time" delays.
// Only IANA names are accepted ("Europe/Paris"), never offsets ("+02:00"), because an
// offset does not follow daylight saving time.

const IANA_SHAPE = /^(UTC|GMT|[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+){1,2})$/

const cache = new Map<string, string | null>()

/** The canonical IANA name ("europe/paris" → "Europe/Paris"), or null when not a valid zone. */
export function canonicalTimezone(value: unknown): string | null {
  if (typeof value !== 'string' || value.length > 64 || !IANA_SHAPE.test(value)) return null
  const hit = cache.get(value)
  if (hit !== undefined) return hit
  let name: string | null
  try {
    name = new Intl.DateTimeFormat('en-US', { timeZone: value }).resolvedOptions().timeZone
  } catch {
    name = null
  }
  if (cache.size < 10_000) cache.set(value, name)
  return name
}
