// Bounce addresses: every mail leaves with the envelope sender (Return-Path)
// bounce+<handle>@<inbound domain>, so that delivery status notifications and feedback
// reports come back to Nudge and name their message (VERP). The handle is made like a reply
// handle, with a secret of its own: an HMAC of (workspace, profile, message), 24 lower-case
// base32 characters, unguessable and the same for every attempt of one message.
import { createHmac } from 'node:crypto'
import { base32, type ReplyThread } from './reply-address.ts'

/** The message a bounce address stands for. */
export type BounceThread = ReplyThread

/** `bounceSecret` is derivedSecret(link secret, 'bounce'). */
export function bounceHandle(bounceSecret: string, t: BounceThread): string {
  // The purpose is in the MAC too: a bounce handle never equals the message's reply handle.
  const mac = createHmac('sha256', bounceSecret)
    .update(`bounce\n${t.workspaceId}\n${t.profileId}\n${t.messageId}`)
    .digest()
  return base32(mac.subarray(0, 15))
}

export function bounceAddressOf(handle: string, domain: string): string {
  return `bounce+${handle}@${domain}`
}

const ADDRESS = /^bounce\+([a-z2-7]{24})@[^@\s]+$/i

/** The handle in an address like bounce+<handle>@example.com, or undefined. */
export function bounceHandleOfAddress(address: string): string | undefined {
  const m = ADDRESS.exec(address.trim().replace(/^<|>$/g, ''))
  return m?.[1]?.toLowerCase()
}
