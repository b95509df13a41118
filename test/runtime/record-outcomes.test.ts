// What a settle writes in its one statement: the message, its delivery event and its trace
// entry, only while the caller's lease holds.
import { afterEach, beforeEach, expect, it } from 'vitest'
import { partitionOf } from '../../src/domain/events/partition.ts'
import { recordOutcomes } from '../../src/runtime/dispatch/record.ts'
import { EVENTS_CHANNEL } from '../../src/store/events.ts'
import { claimDueMessages, enqueueMessages, type QueuedMessage } from '../../src/store/messages.ts'
import { ensureDefaultWorkspace } from '../../src/store/workspaces.ts'
import { describeEachDriver, openTestDb, type TestDb } from '../helpers/db.ts'
import { addMember, WS } from '../public/helpers.ts'

const at = new Date('2026-03-02T10:00:00Z')

describeEachDriver('recordOutcomes', (driver) => {
  let db: TestDb
  let profileId: string
  beforeEach(async () => {
    db = await openTestDb(driver)
    await ensureDefaultWorkspace(db, { writeKey: 'nwk_test_write' })
    ;({ profileId } = await addMember(db, 'ann'))
  })
  afterEach(async () => {
    await db.close()
  })

  /** Queues one message per id and claims them all for `me`. */
  async function claimed(...messageIds: string[]): Promise<QueuedMessage[]> {
    await enqueueMessages(
      db,
      messageIds.map((messageId, i) => ({
        workspaceId: WS,
        profileId,
        messageId,
        journeyId: 'welcome',
        runId: `run-${i}`,
        stepId: 'hello',
        channel: 'email',
        template: 'hello',
        payload: {},
        notBefore: at,
        createdAt: at,
      })),
    )
    const claims = await claimDueMessages(db, 'me', at, 10, 60_000)
    expect(claims).toHaveLength(messageIds.length)
    return claims
  }
  const sent = { status: 'sent', reason: 'handed to email', event: 'sent', providerId: '<p@x>' } as const
  const written = async () => ({
    events: await db.query<{
      name: string
      user_id: string | null
      anonymous_id: string | null
      partition: number
    }>(`SELECT name, user_id, anonymous_id, partition FROM events ORDER BY seq`),
    trace: await db.query<{ message: string }>(`SELECT message FROM journey_trace ORDER BY seq`),
    status: (await db.query<{ status: string }>(`SELECT status FROM messages`)).map((r) => r.status),
  })

  it('settles the message and writes its event, with the identity given, and its trace entry', async () => {
    const [m] = await claimed('m-1')
    if (!m) throw new Error('not claimed')
    const identity = { userId: null, anonymousId: 'device-7' }
    const keys = await recordOutcomes(db, [{ message: m, outcome: sent, now: at, identity }])
    expect(keys.size).toBe(1)
    const w = await written()
    expect(w.status).toEqual(['sent'])
    expect(w.events).toEqual([
      {
        name: 'Message Sent',
        user_id: null,
        anonymous_id: 'device-7',
        partition: partitionOf(WS, null, 'device-7'),
      },
    ])
    expect(w.trace.map((t) => t.message)).toEqual(['email:hello sent: handed to email'])
  })

  it('looks the identity up when the caller does not give it', async () => {
    const [m] = await claimed('m-2')
    if (!m) throw new Error('not claimed')
    await recordOutcomes(db, [{ message: m, outcome: sent, now: at }])
    expect((await written()).events).toEqual([
      { name: 'Message Sent', user_id: 'ann', anonymous_id: null, partition: partitionOf(WS, 'ann', null) },
    ])
  })

  it('writes nothing for a message whose lease passed to another worker', async () => {
    const [m] = await claimed('m-3')
    if (!m) throw new Error('not claimed')
    await db.query(`UPDATE messages SET lease_owner = 'other'`)
    const keys = await recordOutcomes(
      db,
      [{ message: m, outcome: sent, now: at, identity: { userId: 'ann', anonymousId: null } }],
      {
        notify: true,
      },
    )
    expect(keys.size).toBe(0)
    expect(await written()).toEqual({ events: [], trace: [], status: ['sending'] })
  })

  it('writes no event nor trace entry for a member erased while the message was being sent', async () => {
    const [m] = await claimed('m-6')
    if (!m) throw new Error('not claimed')
    await db.query('DELETE FROM profile_identities WHERE profile_id = $1', [profileId])
    await db.query('DELETE FROM profiles WHERE profile_id = $1', [profileId])
    const identity = { userId: 'ann', anonymousId: null }
    expect((await recordOutcomes(db, [{ message: m, outcome: sent, now: at, identity }])).size).toBe(1)
    expect(await written()).toEqual({ events: [], trace: [], status: ['sent'] })
  })

  it('wakes the processors at its commit when it appended an event', async () => {
    const [m] = await claimed('m-7')
    if (!m) throw new Error('not claimed')
    let woken = 0
    const unlisten = await db.listen(EVENTS_CHANNEL, () => {
      woken++
    })
    try {
      await recordOutcomes(db, [{ message: m, outcome: sent, now: at }], { notify: true })
      await expect.poll(() => woken, { timeout: 2000 }).toBeGreaterThan(0)
    } finally {
      await unlisten()
    }
  })

  it('of two messages, writes the event and trace entry of the one still held only', async () => {
    const [held, lost] = await claimed('m-4', 'm-5')
    if (!held || !lost) throw new Error('not claimed')
    await db.query(`UPDATE messages SET lease_owner = 'other' WHERE message_id = $1`, [lost.messageId])
    const keys = await recordOutcomes(
      db,
      [held, lost].map((message) => ({ message, outcome: sent, now: at })),
      { notify: true },
    )
    expect([...keys]).toHaveLength(1)
    const w = await written()
    expect(w.events.map((e) => e.name)).toEqual(['Message Sent'])
    const [entry] = await db.query<{ run_id: string }>('SELECT run_id FROM journey_trace')
    expect(entry?.run_id).toBe(held.runId)
    expect(w.status.sort()).toEqual(['sending', 'sent'])
  })
})
