// Real peers for channel tests, on loopback: an SMTP server that keeps what it receives,
// and an HTTP server that records requests and answers as each test tells it to.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createNetServer } from 'node:net'
import { type ParsedMail, simpleParser } from 'mailparser'
import { SMTPServer, type SMTPServerOptions } from 'smtp-server'

export interface SmtpPeer {
  readonly port: number
  readonly url: string
  readonly received: { from: string; to: string[]; raw: string; parsed: ParsedMail }[]
  /** How many TCP connections the server accepted (to see pooling at work). */
  connections: number
  close(): Promise<void>
}

export async function startSmtp(
  options: Partial<SMTPServerOptions> & {
    user?: string
    pass?: string
    refuseRcpt?: { code: number; text: string }
  } = {},
): Promise<SmtpPeer> {
  const received: SmtpPeer['received'] = []
  const peer = { received, connections: 0 } as { -readonly [K in keyof SmtpPeer]: SmtpPeer[K] }
  const { user, pass, refuseRcpt, ...rest } = options
  const server = new SMTPServer({
    disabledCommands: user ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
    authOptional: !user,
    allowInsecureAuth: true,
    logger: false,
    onConnect(_session, cb) {
      peer.connections++
      cb()
    },
    onAuth(auth, _session, cb) {
      if (auth.username === user && auth.password === pass) return cb(null, { user: auth.username })
      return cb(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }))
    },
    onRcptTo(address, _session, cb) {
      if (refuseRcpt) return cb(Object.assign(new Error(refuseRcpt.text), { responseCode: refuseRcpt.code }))
      cb()
      void address
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = []
      stream.on('data', (c: Buffer) => chunks.push(c))
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8')
        simpleParser(raw).then(
          (parsed) => {
            received.push({
              from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
              to: session.envelope.rcptTo.map((r) => r.address),
              raw,
              parsed,
            })
            cb()
          },
          (err: Error) => cb(err),
        )
      })
    },
    ...rest,
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.server.address() as { port: number }).port
  peer.port = port
  peer.url = user
    ? `smtp://${encodeURIComponent(user)}:${encodeURIComponent(pass ?? '')}@127.0.0.1:${port}`
    : `smtp://127.0.0.1:${port}`
  peer.close = () => new Promise<void>((resolve) => server.close(() => resolve()))
  return peer
}

/** A loopback port with nothing listening on it: connections are refused. */
export async function closedPort(): Promise<number> {
  const s = createNetServer()
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))
  const port = (s.address() as { port: number }).port
  await new Promise<void>((resolve) => s.close(() => resolve()))
  return port
}

export interface RecordedRequest {
  readonly method: string
  readonly url: string
  readonly headers: IncomingMessage['headers']
  readonly body: Buffer
}

export type Responder = (req: RecordedRequest, res: ServerResponse) => void

export interface HttpPeer {
  readonly url: string
  readonly requests: RecordedRequest[]
  /** What the next requests get; a responder that never ends the response makes a hanging peer. */
  respond: Responder
  close(): Promise<void>
}

export async function startHttp(respond: Responder = (_q, res) => res.end('ok')): Promise<HttpPeer> {
  const requests: RecordedRequest[] = []
  const peer = { requests, respond } as { -readonly [K in keyof HttpPeer]: HttpPeer[K] }
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const recorded = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks),
      }
      requests.push(recorded)
      peer.respond(recorded, res)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  peer.url = `http://127.0.0.1:${(server.address() as { port: number }).port}`
  peer.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    })
  return peer
}
