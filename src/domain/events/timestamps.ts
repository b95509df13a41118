// Segment's timestamp rules. Clients send their own clock's time; Nudge corrects
// it for clock skew with the time the client says it sent the request:
//
//   client time = originalTimestamp ?? timestamp       (the call time on the client)
//   timestamp   = receivedAt - (sentAt - client time)  when the client sent sentAt
//               = client time                          when it did not (imports)
//               = receivedAt                           when neither was sent
//
// Dates are ISO-8601 strings; a date-time without an offset is read as UTC (never
// as the server's local time). Years 0001-9999 only: what PostgreSQL stores.

const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)?$/

/** 0001-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z. */
export const MIN_TIME = -62135596800000
export const MAX_TIME = 253402300799999

const digit = (s: string, i: number): number => {
  const c = s.charCodeAt(i) - 48
  return c >= 0 && c <= 9 ? c : Number.NaN
}
const digits = (s: string, i: number, n: number): number => {
  let v = 0
  for (let k = i; k < i + n; k++) v = v * 10 + digit(s, k)
  return v
}
const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

/**
 * The fast path, for what SDKs send (Date#toISOString, "2026-01-31T09:30:00.000Z"):
 * read by character codes, no regex, no Date.parse. Undefined for anything else,
 * which the general parser then decides (years before 0100 included).
 */
export function parseIsoString(s: string): Date | undefined {
  if (
    s.charCodeAt(4) !== 45 /* - */ ||
    s.charCodeAt(7) !== 45 ||
    s.charCodeAt(10) !== 84 /* T */ ||
    s.charCodeAt(13) !== 58 /* : */ ||
    s.charCodeAt(16) !== 58 ||
    s.charCodeAt(19) !== 46 /* . */ ||
    s.charCodeAt(23) !== 90 /* Z */
  )
    return undefined
  const year = digits(s, 0, 4)
  const month = digits(s, 5, 2)
  const day = digits(s, 8, 2)
  const hour = digits(s, 11, 2)
  const minute = digits(s, 14, 2)
  const second = digits(s, 17, 2)
  const ms = digits(s, 20, 3)
  // NaN (a non-digit) fails every comparison below.
  if (!(year >= 100 && month >= 1 && month <= 12 && day >= 1 && hour <= 23 && minute <= 59 && second <= 59))
    return undefined
  if (!(ms >= 0 && day <= (DAYS_IN_MONTH[month - 1] ?? 0))) return undefined
  if (month === 2 && day === 29 && !(year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)))
    return undefined
  return new Date(Date.UTC(year, month - 1, day, hour, minute, second, ms))
}

/** Parses an ISO-8601 date or date-time; undefined when it is not one or does not exist (Feb 30). */
export function parseSegmentDate(s: string): Date | undefined {
  return (s.length === 24 ? parseIsoString(s) : undefined) ?? parseAnyIsoDate(s)
}

/** The general parser: every form of ISO-8601 date and date-time Segment accepts. */
export function parseAnyIsoDate(s: string): Date | undefined {
  const m = ISO.exec(s)
  if (!m) return undefined
  const [, y, mo, d, h = '0', mi = '0', sec = '0', frac = '', , sign, oh = '0', om = '0'] = m
  const year = Number(y)
  const month = Number(mo)
  const day = Number(d)
  const hour = Number(h)
  const minute = Number(mi)
  const second = Number(sec)
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59)
    return undefined
  if (Number(oh) > 23 || Number(om) > 59) return undefined
  const ms = Number(frac.slice(0, 3).padEnd(3, '0'))
  const date = new Date(0)
  // setUTCFullYear, not Date.UTC: Date.UTC maps years 0-99 to 1900-1999.
  date.setUTCFullYear(year, month - 1, day)
  if (date.getUTCDate() !== day) return undefined
  date.setUTCHours(hour, minute, second, ms)
  let t = date.getTime()
  if (sign) t -= (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om)) * 60_000
  if (t < MIN_TIME || t > MAX_TIME) return undefined
  return new Date(t)
}

export interface ClientTimes {
  readonly timestamp?: Date | undefined
  readonly originalTimestamp?: Date | undefined
  readonly sentAt?: Date | undefined
}

export interface ResolvedTimes {
  /** When it happened, after clock-skew correction. */
  readonly timestamp: Date
  /** The client's own clock reading of the call, when it sent one. */
  readonly originalTimestamp: Date | undefined
}

/** Undefined when the correction lands outside years 0001-9999 (a bogus sentAt). */
export function resolveTimestamp(times: ClientTimes, receivedAt: Date): ResolvedTimes | undefined {
  const client = times.originalTimestamp ?? times.timestamp
  if (!client) return { timestamp: receivedAt, originalTimestamp: undefined }
  if (!times.sentAt) return { timestamp: client, originalTimestamp: client }
  const t = receivedAt.getTime() - (times.sentAt.getTime() - client.getTime())
  if (t < MIN_TIME || t > MAX_TIME) return undefined
  return { timestamp: new Date(t), originalTimestamp: client }
}
