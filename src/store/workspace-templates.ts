// The workspace's templates (the `templates` table): what the dispatcher renders. The
// definition is stored as checked by parseTemplate; the checksum says when it changed.
import { createHash } from 'node:crypto'
import type { TemplateDefinition } from '../domain/templates/types.ts'
import type { Queryable } from './db.ts'

export interface StoredTemplate {
  readonly definition: unknown
  readonly checksum: string
}

export async function saveTemplates(
  db: Queryable,
  workspaceId: string,
  templates: readonly TemplateDefinition[],
  at: Date,
): Promise<void> {
  if (templates.length === 0) return
  const rows = templates.map((t) => {
    const json = JSON.stringify(t)
    return { n: t.name, d: t, c: createHash('sha256').update(json).digest('hex') }
  })
  await db.query(
    `INSERT INTO templates (workspace_id, name, definition, checksum, updated_at)
     SELECT $1, x.n, x.d, x.c, $3 FROM jsonb_to_recordset($2::jsonb) AS x(n text, d jsonb, c text)
     ON CONFLICT (workspace_id, name) DO UPDATE
       SET definition = EXCLUDED.definition, checksum = EXCLUDED.checksum, updated_at = EXCLUDED.updated_at
       WHERE templates.checksum <> EXCLUDED.checksum`,
    [workspaceId, JSON.stringify(rows), at.toISOString()],
  )
}

/** The named templates of a workspace that exist, by name. */
export async function loadTemplates(
  db: Queryable,
  workspaceId: string,
  names: readonly string[],
): Promise<Map<string, StoredTemplate>> {
  const rows = await db.query<{ name: string; definition: unknown; checksum: string }>(
    'SELECT name, definition, checksum FROM templates WHERE workspace_id = $1 AND name = ANY($2::text[])',
    [workspaceId, names],
  )
  return new Map(rows.map((r) => [r.name, { definition: r.definition, checksum: r.checksum }]))
}
