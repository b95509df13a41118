// The embedded inbound SMTP listener for replies (off unless a port is given). It accepts
// only mail to reply addresses Nudge handed out (reply+<handle>@...): anything else is
// refused at RCPT TO, so it cannot be used as a relay or a spam sink. Put it behind your
// MX (or point a subdomain's MX at it); it speaks plain SMTP without AUTH or STARTTLS.
import { type AddressObject, simpleParser } from 'mailparser'
import { SMTPServer } from 'smtp-server'
import type { Clock } from '../domain/clock.ts'
import { handleOfAddress } from '../domain/messages/reply-address.ts'
import type { Logger } from '../log.ts'
import type { Db } from '../store/db.ts'
import { findReplyThread } from '../store/replies.ts'
import { receiveReply } from './receive-reply.ts'

export interface InboundSmtpOptions {
  readonly db: Db
  readonly clock: Clock
  readonly log: Logger
  readonly port: number
  readonly host?: string
  /** Larger mails are refused (552) before they are read. Default 10 MB. */
  readonly maxBytes?: number
}

export interface InboundSmtp {
  readonly port: number
  close(): Promise<void>
}

const smtpError = (code: number, message: string) => Object.assign(new Error(message), { responseCode: code })

const addressesOf = (a: AddressObject | AddressObject[] | undefined): string[] =>
  (Array.isArray(a) ? a : a ? [a] : []).flatMap((o) => o.value.map((v) => v.address ?? '')).filter(Boolean)

export async function startInboundSmtp(o: InboundSmtpOptions): Promise<InboundSmtp> {
  const maxBytes = o.maxBytes ?? 10 * 1024 * 1024
  const server = new SMTPServer({
    name: 'nudge-inbound',
    banner: 'Nudge replies',
    disabledCommands: ['AUTH', 'STARTTLS'],
    authOptional: true,
    size: maxBytes,
    logger: false,
    async onRcptTo(address, _session, cb) {
      try {
        const handle = handleOfAddress(address.address)
        if (handle && (await findReplyThread(o.db, handle))) return cb()
        cb(smtpError(550, '5.1.1 No such reply address'))
      } catch (err) {
        o.log.error({ err }, 'inbound smtp: could not check a recipient')
        cb(smtpError(451, '4.3.0 Temporary failure, try again later'))
      }
    },
    onData(stream, session, cb) {
      const rcpt = session.envelope.rcptTo.map((r) => r.address)
      simpleParser(stream)
        .then(async (mail) => {
          if ((stream as unknown as { sizeExceeded?: boolean }).sizeExceeded) {
            return cb(smtpError(552, '5.3.4 Message too big'))
          }
          const result = await receiveReply(
            o.db,
            {
              recipients: [...rcpt, ...addressesOf(mail.to), ...addressesOf(mail.cc)],
              from:
                mail.from?.value[0]?.address ??
                (session.envelope.mailFrom ? session.envelope.mailFrom.address : null),
              subject: mail.subject ?? null,
              text: mail.text ?? null,
              html: typeof mail.html === 'string' ? mail.html : null,
              messageId: mail.messageId ?? null,
            },
            { source: 'smtp', at: o.clock.now() },
          )
          if (!result.ok) return cb(smtpError(550, '5.1.1 No such reply address'))
          o.log.info(
            { workspaceId: result.workspaceId, messageId: result.messageId, duplicate: result.duplicate },
            'reply received',
          )
          cb()
        })
        .catch((err: unknown) => {
          o.log.error({ err }, 'inbound smtp: could not store a reply')
          cb(smtpError(451, '4.3.0 Temporary failure, try again later'))
        })
    },
  })
  server.on('error', (err) => o.log.error({ err }, 'inbound smtp error'))
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject)
    server.listen(o.port, o.host ?? '0.0.0.0', () => {
      server.server.off('error', reject)
      resolve()
    })
  })
  const port = (server.server.address() as { port: number }).port
  return { port, close: () => new Promise<void>((resolve) => server.close(() => resolve())) }
}
