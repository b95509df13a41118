// The embedded default when no SMTP server is configured: every mail is composed exactly as
// SMTP would carry it (nodemailer's stream transport builds a real RFC 5322 message) and
// written as an .eml file under the data folder, so `npm start` works offline and a person
// can open every mail in a mail client. A JSON summary beside each file makes listing cheap.
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import nodemailer from 'nodemailer'
import type { Clock } from '../domain/clock.ts'
import type { ComposeDefaults, DkimConfig } from './email-compose.ts'
import { composeMail, DKIM_SIGNED_HEADERS } from './email-compose.ts'
import type { ChannelSender, OutgoingMessage, SendResult } from './types.ts'
import { failure } from './types.ts'

export interface MailboxEntry {
  /** File name without extension; derived from the idempotency key, so a retry overwrites. */
  readonly id: string
  readonly messageId: string
  readonly nudgeMessageId: string
  readonly from: string
  readonly to: string
  readonly subject: string
  readonly category: string
  readonly profileId: string
  readonly storedAt: string
}

const ID = /^[a-f0-9]{32}$/

export function mailboxDir(dataDir: string, workspaceId: string): string {
  return join(dataDir, 'mailbox', encodeURIComponent(workspaceId))
}

export interface MailboxOptions extends ComposeDefaults {
  readonly dataDir: string
  readonly clock: Clock
  readonly dkim?: DkimConfig | undefined
}

export function openMailbox(options: MailboxOptions): ChannelSender {
  const transport = nodemailer.createTransport({
    streamTransport: true,
    buffer: true,
    newline: 'windows',
    ...(options.dkim ? { dkim: { ...options.dkim, headerFieldNames: DKIM_SIGNED_HEADERS } } : {}),
  })
  // The folders made so far: made once each, not before every mail.
  const made = new Set<string>()
  return {
    name: 'email',
    async send(message: OutgoingMessage): Promise<SendResult> {
      const composed = composeMail(message, options, options.clock.now())
      if (!composed.ok) return composed.failure
      try {
        const info = await transport.sendMail(composed.mail)
        const id = composed.messageId.slice(1, 33)
        const dir = mailboxDir(options.dataDir, message.meta.workspaceId)
        const entry: MailboxEntry = {
          id,
          messageId: composed.messageId,
          nudgeMessageId: message.id,
          from: String(composed.mail.from),
          to: message.to.email ?? '',
          subject: message.content.subject ?? '',
          category: message.category,
          profileId: message.to.profileId,
          storedAt: options.clock.now().toISOString(),
        }
        // Write then rename: a reader never sees half a file, and a retry replaces, not duplicates.
        const store = async () => {
          await writeFile(join(dir, `${id}.eml.tmp`), info.message as Buffer)
          await rename(join(dir, `${id}.eml.tmp`), join(dir, `${id}.eml`))
          await writeFile(join(dir, `${id}.json.tmp`), JSON.stringify(entry))
          await rename(join(dir, `${id}.json.tmp`), join(dir, `${id}.json`))
        }
        if (!made.has(dir)) await mkdir(dir, { recursive: true })
        made.add(dir)
        await store().catch(async (err: NodeJS.ErrnoException) => {
          // The folder was removed since: make it again, once.
          if (err.code !== 'ENOENT') throw err
          await mkdir(dir, { recursive: true })
          await store()
        })
        return {
          ok: true,
          providerId: composed.messageId,
          detail: `stored in the local mailbox as ${id}.eml`,
        }
      } catch (err) {
        // A full disk or a permission problem is the operator's to fix, not the message's fault.
        return failure('misconfigured', `could not write to the local mailbox: ${(err as Error).message}`)
      }
    },
    async close() {
      transport.close()
    },
  }
}

/** Newest first. For the admin API's mailbox listing. */
export async function listMailbox(
  dataDir: string,
  workspaceId: string,
  options: { limit?: number; profileId?: string } = {},
): Promise<MailboxEntry[]> {
  const dir = mailboxDir(dataDir, workspaceId)
  let names: string[]
  try {
    names = await readdir(dir)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw err
  }
  const entries: MailboxEntry[] = []
  for (const name of names) {
    if (!name.endsWith('.json')) continue
    const entry = JSON.parse(await readFile(join(dir, name), 'utf8')) as MailboxEntry
    if (options.profileId && entry.profileId !== options.profileId) continue
    entries.push(entry)
  }
  entries.sort((a, b) => (a.storedAt < b.storedAt ? 1 : a.storedAt > b.storedAt ? -1 : a.id < b.id ? 1 : -1))
  return entries.slice(0, options.limit ?? 100)
}

/** The raw .eml (RFC 5322) of one stored mail, or undefined when there is none. */
export async function readMailboxMessage(
  dataDir: string,
  workspaceId: string,
  id: string,
): Promise<string | undefined> {
  if (!ID.test(id)) return undefined
  try {
    return await readFile(join(mailboxDir(dataDir, workspaceId), `${id}.eml`), 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
}
