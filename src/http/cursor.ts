// Opaque page cursors: the keyset of the last row of a page, as base64url JSON.
// Clients treat them as tokens; a cursor that was not produced by us is a 400.
import { z } from 'zod'

export function encodeCursor(key: unknown): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url')
}

export function cursorParam<S extends z.ZodType>(key: S) {
  return z
    .string()
    .max(1000)
    .transform((s, ctx): z.output<S> => {
      try {
        const parsed = key.safeParse(JSON.parse(Buffer.from(s, 'base64url').toString('utf8')))
        if (parsed.success) return parsed.data
      } catch {
        // fall through to the issue below
      }
      ctx.addIssue({ code: 'custom', message: 'not a cursor returned by this API; start again without one' })
      return z.NEVER
    })
    .optional()
    .describe('`nextCursor` of the previous page; omit for the first page')
}

export function limitParam(max = 1000, byDefault = 50) {
  return z.coerce
    .number()
    .int()
    .min(1)
    .max(max)
    .default(byDefault)
    .describe(`Page size, 1 to ${max} (default ${byDefault})`)
}
