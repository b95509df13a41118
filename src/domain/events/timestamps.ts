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

/** Parses an ISO-8601 date or date-time; undefined when it is not one or does not exist (Feb 30). */
export function parseSegmentDate(s: string): Date | undefined {
  // Fast path for what SDKs send (Date#toISOString): the round trip proves it exists.
  if (s.length === 24 && s.charCodeAt(23) === 90 /* Z */) {
    const t = Date.parse(s)
    if (t >= MIN_TIME && t <= MAX_TIME && new Date(t).toISOString() === s) return new Date(t)
  }
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
