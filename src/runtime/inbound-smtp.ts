// The embedded inbound SMTP listener for replies and delivery reports (off unless a port is
// given). It accepts only mail to addresses Nudge handed out: reply addresses
// (reply+<handle>@...) and bounce addresses, the envelope sender of every mail
// (bounce+<handle>@..., where DSNs and complaints arrive). Anything else is refused at
// RCPT TO, so it cannot be used as a relay or a spam sink. Put it behind your MX (or point a
// subdomain's MX at it); it speaks plain SMTP without AUTH or STARTTLS.
import { type AddressObject, simpleParser } from 'mailparser'
import { SMTPServer } from 'smtp-server'
import type { Clock } from '../domain/clock.ts'
import { bounceHandleOfAddress } from '../domain/messages/bounce-address.ts'
import { handleOfAddress } from '../domain/messages/reply-address.ts'
import type { Logger } from '../log.ts'
import { findBounceTarget } from '../store/bounce-handles.ts'
import type { Db } from '../store/db.ts'
import { findReplyThread } from '../store/replies.ts'
import { receiveReply } from './receive-reply.ts'
import { readReport, receiveReport } from './receive-report.ts'

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
        const bounce = bounceHandleOfAddress(address.address)
        if (bounce) {
          if (await findBounceTarget(o.db, bounce)) return cb()
          return cb(smtpError(550, '5.1.1 Unknown bounce address: this handle was not handed out by Nudge'))
        }
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
      const bounce = rcpt.map(bounceHandleOfAddress).find((h) => h !== undefined)
      simpleParser(stream, { keepDeliveryStatus: true })
        .then(async (mail) => {
          if ((stream as unknown as { sizeExceeded?: boolean }).sizeExceeded) {
            return cb(smtpError(552, '5.3.4 Message too big'))
          }
          if (bounce) {
            const report = await receiveReport(o.db, bounce, readReport(mail), o.clock.now())
            if (!report.ok) return cb(smtpError(550, `5.6.0 Not accepted: ${report.reason}`))
            o.log.info(
              {
                workspaceId: report.workspaceId,
                messageId: report.messageId,
                kind: report.kind,
                recorded: report.recorded,
              },
              'delivery report received',
            )
            return cb()
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
          o.log.error({ err }, 'inbound smtp: could not store a reply or a report')
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
