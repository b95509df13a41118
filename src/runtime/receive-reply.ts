// One path for every reply, whether it came through the embedded SMTP listener or a
// provider's inbound-parse webhook: find the reply address among the recipients, thread
// the reply to its member and message, store it once, and emit `Message Replied`.
import { createHash } from 'node:crypto'
import { convert } from 'html-to-text'
import { handleOfAddress, stripQuoted } from '../domain/messages/reply-address.ts'
import type { Db } from '../store/db.ts'
import { emitProfileEvents, profileIdentity } from '../store/profile-events.ts'
import { findReplyThread, insertReply } from '../store/replies.ts'
import { findTrackedMessage, messageProperties } from '../store/tracking.ts'

export interface InboundMail {
  /** Envelope recipients and To/Cc addresses; the first reply address among them wins. */
  readonly recipients: readonly string[]
  readonly from: string | null
  readonly subject: string | null
  readonly text: string | null
  readonly html: string | null
  /** The Message-ID header: a redelivered mail is stored once. */
  readonly messageId: string | null
}

export type ReceiveResult =
  | {
      readonly ok: true
      readonly duplicate: boolean
      readonly workspaceId: string
      readonly profileId: string
      readonly messageId: string
      readonly replyId: string
    }
  | { readonly ok: false; readonly reason: 'no-reply-address' }

/** The event's excerpt: enough to read in a list or branch on, not the whole mail. */
const EXCERPT = 500

export async function receiveReply(
  db: Db,
  mail: InboundMail,
  opts: { source: 'smtp' | 'webhook'; at: Date; workspaceId?: string },
): Promise<ReceiveResult> {
  return db.transaction(async (tx) => {
    let thread: Awaited<ReturnType<typeof findReplyThread>>
    for (const address of mail.recipients) {
      const handle = handleOfAddress(address)
      const t = handle ? await findReplyThread(tx, handle) : undefined
      if (t && (opts.workspaceId === undefined || t.workspaceId === opts.workspaceId)) {
        thread = t
        break
      }
    }
    if (!thread) return { ok: false, reason: 'no-reply-address' } as const
    const text = mail.text?.trim() || (mail.html ? convert(mail.html, { wordwrap: false }) : '')
    const stripped = stripQuoted(text)
    const replyId = createHash('sha256')
      .update(mail.messageId?.trim() || `${mail.from}\n${mail.subject}\n${text}`)
      .digest('hex')
      .slice(0, 32)
    // A member merged since the message was sent: the reply belongs to the live profile.
    const who = await profileIdentity(tx, thread.workspaceId, thread.profileId)
    const profileId = who?.profileId ?? thread.profileId
    const created = await insertReply(tx, {
      workspaceId: thread.workspaceId,
      profileId,
      replyId,
      messageId: thread.messageId,
      source: opts.source,
      fromAddress: mail.from,
      subject: mail.subject,
      text,
      strippedText: stripped,
      html: mail.html,
      receivedAt: opts.at,
    })
    if (created) {
      const m = await findTrackedMessage(tx, thread.workspaceId, thread.messageId)
      await emitProfileEvents(tx, [
        {
          workspaceId: thread.workspaceId,
          profileId,
          messageId: `nudge:replied:${thread.workspaceId}:${replyId}`,
          name: 'Message Replied',
          properties: {
            ...(m ? messageProperties(m) : { message_id: thread.messageId }),
            reply_id: replyId,
            subject: mail.subject,
            excerpt: stripped.slice(0, EXCERPT),
          },
          at: opts.at,
          source: opts.source === 'smtp' ? 'inbound_smtp' : 'inbound_webhook',
        },
      ])
    }
    return {
      ok: true,
      duplicate: !created,
      workspaceId: thread.workspaceId,
      profileId,
      messageId: thread.messageId,
      replyId,
    } as const
  })
}
