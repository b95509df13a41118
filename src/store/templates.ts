// Templates stored per workspace, by name. A put with the same content changes nothing,
// so applying the same folder twice is a no-op.
import type { TemplateDefinition } from '../domain/templates/types.ts'
import type { Queryable } from './db.ts'
import { checksumOf } from './journeys.ts'

export interface TemplateRecord {
  readonly name: string
  readonly definition: TemplateDefinition
  readonly checksum: string
  readonly updatedAt: Date
}

export type PutOutcome = 'created' | 'updated' | 'unchanged'

interface TemplateRow {
  name: string
  definition: TemplateDefinition
  checksum: string
  updated_at: Date
}

const toRecord = (r: TemplateRow): TemplateRecord => ({
  name: r.name,
  definition: r.definition,
  checksum: r.checksum,
  updatedAt: r.updated_at,
})

/** Stores a checked template; one statement, so concurrent puts cannot interleave. */
export async function putTemplate(
  db: Queryable,
  workspaceId: string,
  template: TemplateDefinition,
): Promise<{ outcome: PutOutcome; template: TemplateRecord }> {
  const checksum = checksumOf(template)
  const rows = await db.query<TemplateRow & { created: boolean }>(
    `WITH before AS (SELECT checksum FROM templates WHERE workspace_id = $1 AND name = $2)
     INSERT INTO templates (workspace_id, name, definition, checksum) VALUES ($1, $2, $3, $4)
     ON CONFLICT (workspace_id, name) DO UPDATE
       SET definition = EXCLUDED.definition, checksum = EXCLUDED.checksum, updated_at = now()
       WHERE templates.checksum <> EXCLUDED.checksum
     RETURNING name, definition, checksum, updated_at,
       NOT EXISTS (SELECT 1 FROM before) AS created`,
    [workspaceId, template.name, JSON.stringify(template), checksum],
  )
  const row = rows[0]
  if (row) return { outcome: row.created ? 'created' : 'updated', template: toRecord(row) }
  const current = await getTemplate(db, workspaceId, template.name)
  if (!current) throw new Error(`template ${template.name} vanished during put`)
  return { outcome: 'unchanged', template: current }
}

export async function getTemplate(
  db: Queryable,
  workspaceId: string,
  name: string,
): Promise<TemplateRecord | undefined> {
  const rows = await db.query<TemplateRow>(
    'SELECT name, definition, checksum, updated_at FROM templates WHERE workspace_id = $1 AND name = $2',
    [workspaceId, name],
  )
  return rows[0] && toRecord(rows[0])
}

export async function listTemplates(db: Queryable, workspaceId: string): Promise<TemplateRecord[]> {
  const rows = await db.query<TemplateRow>(
    'SELECT name, definition, checksum, updated_at FROM templates WHERE workspace_id = $1 ORDER BY name',
    [workspaceId],
  )
  return rows.map(toRecord)
}

/** Each template's channel, by name: what journey checks need. */
export async function templateChannels(db: Queryable, workspaceId: string): Promise<Record<string, string>> {
  const rows = await db.query<{ name: string; channel: string }>(
    "SELECT name, definition->>'channel' AS channel FROM templates WHERE workspace_id = $1",
    [workspaceId],
  )
  return Object.fromEntries(rows.map((r) => [r.name, r.channel]))
}
