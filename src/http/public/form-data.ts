// Request bodies that HTML forms and inbound-parse providers send: urlencoded (forms,
// RFC 8058 one-click) and multipart/form-data (SendGrid, Mailgun). Only text fields are
// kept; files (attachments) are skipped. Registered inside the public plugin only.
import type { FastifyInstance } from 'fastify'

/** Text fields of a multipart/form-data body; the first value of a repeated name wins. */
export function parseMultipart(body: string, contentType: string): Record<string, string> {
  const boundary = /boundary="?([^";]+)"?/i.exec(contentType)?.[1]
  const fields: Record<string, string> = {}
  if (!boundary) return fields
  for (const part of body.split(`--${boundary}`)) {
    const split = part.indexOf('\r\n\r\n')
    if (split === -1) continue
    const head = part.slice(0, split)
    const disposition = /content-disposition:\s*form-data;([^\r\n]*)/i.exec(head)?.[1] ?? ''
    const name = /\bname="([^"]*)"/i.exec(disposition)?.[1]
    if (!name || /\bfilename=/i.test(disposition) || name in fields) continue
    fields[name] = part.slice(split + 4).replace(/\r\n$/, '')
  }
  return fields
}

export function registerFormParsers(app: FastifyInstance): void {
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)))
  })
  app.addContentTypeParser('multipart/form-data', { parseAs: 'string' }, (req, body, done) => {
    done(null, parseMultipart(body as string, req.headers['content-type'] ?? ''))
  })
}
