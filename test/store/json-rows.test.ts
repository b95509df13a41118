// A write that joins a JSON batch to a table looks up the batch's keys (jsonRows), where a
// bare jsonb_to_recordset, planned for 100 rows, reads the whole table into a hash; and the
// LIMIT that carries the batch's size keeps every row of it.
import { afterEach, beforeEach, expect, it } from 'vitest'
import { jsonRows } from '../../src/store/json-rows.ts'
import { SETTLE_UPDATE } from '../../src/store/messages.ts'
import { describeEachDriver, openTestDb, type TestDb } from '../helpers/db.ts'

type PlanNode = {
  'Node Type': string
  'Relation Name'?: string
  'Function Name'?: string
  'Plan Rows': number
  Plans?: PlanNode[]
}

/** The nodes of a plan, as EXPLAIN (FORMAT JSON) gives it, depth first. */
const flat = (node: PlanNode): PlanNode[] => [node, ...(node.Plans ?? []).flatMap(flat)]
const named = (n: PlanNode) =>
  n['Relation Name'] ? `${n['Node Type']} on ${n['Relation Name']}` : n['Node Type']

describeEachDriver('jsonRows', (driver) => {
  let db: TestDb
  beforeEach(async () => {
    db = await openTestDb(driver)
    // A message log of 5,000 rows: small enough for a hash of all of it to look cheaper
    // than 100 key lookups.
    await db.query(
      `INSERT INTO messages (workspace_id, profile_id, message_id, channel, template, status, not_before,
                             created_at, updated_at, lease_owner)
       SELECT 'default', gen_random_uuid(), 'm' || g, 'email', 'welcome', 'sending', now(), now(), now(), 'me'
       FROM generate_series(1, 5000) g`,
    )
  })
  afterEach(async () => {
    await db.close()
  })

  const explain = async (sql: string, params: unknown[]) => {
    const [row] = await db.query<{ 'QUERY PLAN': unknown }>(`EXPLAIN (FORMAT JSON) ${sql}`, params)
    const plan = row?.['QUERY PLAN']
    return flat((typeof plan === 'string' ? JSON.parse(plan) : plan)[0].Plan as PlanNode)
  }
  /** What the planner expects of the batch: the rows of its jsonb_to_recordset or of the LIMIT above it. */
  const batchRows = (nodes: PlanNode[]) =>
    nodes.find((n) => n['Node Type'] === 'Limit' || n['Function Name'] === 'jsonb_to_recordset')?.[
      'Plan Rows'
    ]

  it("settles one message through the message log's keys, where a bare recordset reads every message", async () => {
    const [m] = await db.query<{ profile_id: string }>(
      "SELECT profile_id FROM messages WHERE message_id = 'm42'",
    )
    const batch = JSON.stringify([
      {
        w: 'default',
        p: m?.profile_id,
        id: 'm42',
        lo: 'me',
        st: 'sent',
        at: new Date().toISOString(),
        ca: 1,
        pp: {},
      },
    ])
    const settle = await explain(SETTLE_UPDATE('$1'), [batch])
    expect(batchRows(settle)).toBe(1)
    expect(settle.map(named)).not.toContain('Seq Scan on messages')
    expect(settle.some((n) => /Index (Only )?Scan on messages/.test(named(n)))).toBe(true)
    // The control: over jsonb_to_recordset alone the planner expects 100 rows of any batch,
    // and (in the versions we run on) hashes the whole log for them.
    const bare = await explain(
      `UPDATE messages m SET attempts = m.attempts + 1
       FROM jsonb_to_recordset($1::jsonb) AS x(w text, p uuid, id text)
       WHERE m.workspace_id = x.w AND m.profile_id = x.p AND m.message_id = x.id`,
      [batch],
    )
    expect(batchRows(bare)).toBe(100)
    expect(bare.map(named)).toContain('Seq Scan on messages')
  })

  it('keeps every row of a batch larger than the planner guesses', async () => {
    const batch = JSON.stringify(Array.from({ length: 300 }, (_, i) => ({ id: `m${i + 1}`, v: i + 1 })))
    const rows = await db.query<{ n: number; total: number }>(
      `WITH up AS (
         UPDATE messages m SET attempts = x.v FROM ${jsonRows('$1', 'id text, v int')}
         WHERE m.workspace_id = 'default' AND m.message_id = x.id RETURNING m.attempts
       ) SELECT count(*)::int AS n, sum(attempts)::int AS total FROM up`,
      [batch],
    )
    expect(rows[0]).toEqual({ n: 300, total: (300 * 301) / 2 })
    const empty = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM ${jsonRows('$1', 'id text, v int')}`,
      ['[]'],
    )
    expect(empty[0]?.n).toBe(0)
  })
})

it('jsonRows refuses what it cannot read as a parameter and plain column names', () => {
  expect(jsonRows('$2', 'a numeric(10, 2), b double precision')).toContain('SELECT r.a, r.b FROM')
  expect(() => jsonRows('(SELECT $1)', 'a text')).toThrow(/not a statement parameter/)
  expect(() => jsonRows('$1', 'a text, "B" text')).toThrow(/"B" .* is not a plain column name/)
})
