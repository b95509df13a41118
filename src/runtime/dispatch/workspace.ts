// What the dispatcher needs of each workspace in a batch, read once per batch: its guard
// policy (`settings.guards`, safe defaults when absent or invalid), its link secret and
// its stored channel configs.
import { defaultGuardPolicy, type GuardPolicy, safeParseGuardPolicy } from '../../domain/guards/policy.ts'
import { channelConfigsOf } from '../../store/channel-configs.ts'
import type { Queryable } from '../../store/db.ts'
import { workspaceSecret } from '../../store/workspace-secrets.ts'
import { loadTemplates, type StoredTemplate } from '../../store/workspace-templates.ts'

export interface WorkspaceContext {
  readonly id: string
  readonly name: string
  readonly policy: GuardPolicy
  /** Why the stored policy was not used, when it is invalid. */
  readonly policyProblem: string | null
  readonly secret: string
  readonly channelConfigs: ReadonlyMap<string, unknown>
  /** The templates the batch's messages name, as stored. */
  readonly templates: ReadonlyMap<string, StoredTemplate>
}

/** The guard policy of a workspace's settings (`settings.guards`): safe defaults when absent or invalid. */
function policyOf(settings: Record<string, unknown> | null | undefined): {
  policy: GuardPolicy
  problem: string | null
} {
  const parsed = safeParseGuardPolicy(settings?.['guards'] ?? {})
  return parsed.ok
    ? { policy: parsed.policy, problem: null }
    : { policy: defaultGuardPolicy, problem: parsed.issues.map((i) => `${i.path}: ${i.message}`).join('; ') }
}

/** A workspace's guard policy as the dispatcher applies it. */
export async function guardPolicyOf(db: Queryable, workspaceId: string): Promise<GuardPolicy> {
  const [row] = await db.query<{ settings: Record<string, unknown> | null }>(
    'SELECT settings FROM workspaces WHERE id = $1',
    [workspaceId],
  )
  return policyOf(row?.settings).policy
}

/** `templates`: by workspace, the template names its messages in this batch use. */
export async function loadWorkspaces(
  db: Queryable,
  templates: ReadonlyMap<string, ReadonlySet<string>>,
): Promise<Map<string, WorkspaceContext>> {
  const ids = [...templates.keys()]
  const rows = await db.query<{ id: string; name: string; settings: Record<string, unknown> }>(
    'SELECT id, name, settings FROM workspaces WHERE id = ANY($1::text[])',
    [ids],
  )
  const configs = await channelConfigsOf(db, ids)
  const out = new Map<string, WorkspaceContext>()
  for (const r of rows) {
    const { policy, problem } = policyOf(r.settings)
    const secret = await workspaceSecret(db, r.id)
    if (!secret) continue
    const stored = configs.get(r.id)
    out.set(r.id, {
      id: r.id,
      name: r.name,
      policy,
      policyProblem: problem,
      secret,
      templates: await loadTemplates(db, r.id, [...(templates.get(r.id) ?? [])]),
      channelConfigs: new Map([...(stored?.values() ?? [])].map((c) => [c.channel, c.config])),
    })
  }
  return out
}
