// A claim of the outbox reads about what it takes, not the channel's whole backlog: counted
// by the transaction's own table statistics (rows read by scans and fetched through indexes).
import { afterEach, beforeEach, expect, it } from 'vitest'
import { claimDueMessages } from '../../src/store/messages.ts'
import { describeEachDriver, openTestDb, type TestDb } from '../helpers/db.ts'

describeEachDriver('outbox claim', (driver) => {
  let db: TestDb
  /**
   * A claim of 16, with the rows of the message log its statements read by scans and fetched
   * through indexes (rows fetched by their address are not counted), from the statistics the
   * connection gathers: the difference, since they may still hold counts not yet flushed.
   */
  const claimCounted = () =>
    db.transaction(async (tx) => {
      const rowsRead = async () => {
        const [stats] = await tx.query<{ n: number }>(
          `SELECT (coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0))::int AS n
           FROM pg_stat_xact_user_tables WHERE relid = 'messages'::regclass`,
        )
        return stats?.n ?? Number.NaN
      }
      const before = await rowsRead()
      const claimed = await claimDueMessages(tx, 'me', new Date(), 16, 30_000)
      return { claimed, read: (await rowsRead()) - before }
    })
  beforeEach(async () => {
    db = await openTestDb(driver)
    // A backlog of 5,000 due mails on one channel, queued a second apart an hour ago.
    await db.query(
      `INSERT INTO messages (workspace_id, profile_id, message_id, channel, template, status, not_before,
                             created_at, updated_at)
       SELECT 'default', gen_random_uuid(), 'm' || g, 'email', 'welcome', 'queued',
              now() - interval '2 hours' + g * interval '1 second', now(), now()
       FROM generate_series(1, 5000) g`,
    )
  })
  afterEach(async () => {
    await db.close()
  })

  it('takes the 16 oldest of a backlog of 5,000, reading a few rows for each', async () => {
    const { claimed, read } = await claimCounted()
    expect(claimed.map((m) => m.messageId)).toEqual(Array.from({ length: 16 }, (_, i) => `m${i + 1}`))
    expect(read).toBeGreaterThan(0)
    expect(read).toBeLessThan(100)
  })

  it('takes the messages holding a rate-limit slot first, reading a few rows for each', async () => {
    // The 5 newest hold a slot that has come: they go first, then the 11 oldest of the others.
    await db.query(
      `UPDATE messages SET rate_slot_at = now() - interval '1 minute'
       WHERE message_id IN (SELECT 'm' || g FROM generate_series(4996, 5000) g)`,
    )
    const { claimed, read } = await claimCounted()
    expect(claimed.map((m) => m.messageId).sort()).toEqual(
      [
        'm4996',
        'm4997',
        'm4998',
        'm4999',
        'm5000',
        ...Array.from({ length: 11 }, (_, i) => `m${i + 1}`),
      ].sort(),
    )
    expect(claimed.every((m) => m.leaseOwner === 'me')).toBe(true)
    expect(read).toBeGreaterThan(0)
    expect(read).toBeLessThan(100)
  })

  it.runIf(driver === 'pg')('skips the messages another transaction holds locked', async () => {
    // Another connection holds m1 and m2 (a dispatcher's claim in flight): of the 16 oldest,
    // this claim takes the 14 it can lock, without waiting, and leaves those two alone.
    await db.transaction(async (other) => {
      await other.query("SELECT 1 FROM messages WHERE message_id IN ('m1', 'm2') FOR UPDATE")
      const claimed = await claimDueMessages(db, 'me', new Date(), 16, 30_000)
      expect(claimed.map((m) => m.messageId)).toEqual(Array.from({ length: 14 }, (_, i) => `m${i + 3}`))
    })
    const leased = await db.query<{ message_id: string }>(
      "SELECT message_id FROM messages WHERE lease_owner = 'me' ORDER BY not_before",
    )
    expect(leased.map((r) => r.message_id)).toEqual(Array.from({ length: 14 }, (_, i) => `m${i + 3}`))
    // Once they are free, the next claim takes them first.
    const next = await claimDueMessages(db, 'me', new Date(), 2, 30_000)
    expect(next.map((m) => m.messageId)).toEqual(['m1', 'm2'])
  })
})
