// Journeys as documents: apply one (created, new version, or unchanged), read its versions,
// and move it through draft → published ⇄ paused → archived. A document is checked with the
// same parse and checks as `nudge validate`, against the workspace's stored templates and
// journeys, inside the transaction that stores it: it is stored whole or not at all.
import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import { type ErrorIssue, NudgeError } from '../../domain/errors.ts'
import { pathText } from '../../domain/journeys/checks.ts'
import { checkCycles } from '../../domain/journeys/cycles.ts'
import { checkDocument } from '../../domain/journeys/parse.ts'
import { JourneySchema as JourneyDocumentSchema } from '../../domain/journeys/schema.ts'
import type { Journey } from '../../domain/journeys/types.ts'
import type { Queryable } from '../../store/db.ts'
import {
  applyJourney,
  deleteDraftJourney,
  getJourney,
  getJourneyVersion,
  type JourneyRecord,
  latestDefinitions,
  listJourneys,
  listJourneyVersions,
  publishVersion,
  setJourneyStatus,
} from '../../store/journeys.ts'
import { templateChannels } from '../../store/templates.ts'
import { route } from '../openapi.ts'
import { type AdminDeps, workspaceOf } from './context.ts'

const Timestamp = z.iso.datetime()

const JourneySummary = z
  .object({
    id: z.string(),
    name: z.string(),
    status: z.enum(['draft', 'published', 'paused', 'archived']),
    liveVersion: z.number().int().nullable().describe('The version new runs enter; null until published'),
    latestVersion: z.number().int(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .meta({ id: 'Journey' })

const VersionSummary = z.object({ version: z.number().int(), checksum: z.string(), createdAt: Timestamp })

const JourneyDetail = JourneySummary.extend({ versions: z.array(VersionSummary) }).meta({
  id: 'JourneyDetail',
})

const Document = z
  .record(z.string(), z.unknown())
  .describe('A journey document, as in a journey file: see schemas/journey.schema.json')

const IdParams = z.object({ id: z.string().min(1).max(200) })

const summaryJson = (j: JourneyRecord): z.input<typeof JourneySummary> => ({
  id: j.journeyId,
  name: j.name,
  status: j.status,
  liveVersion: j.liveVersion,
  latestVersion: j.latestVersion,
  createdAt: j.createdAt.toISOString(),
  updatedAt: j.updatedAt.toISOString(),
})

const notFound = (id: string) => new NudgeError('NUDGE_ERR_NOT_FOUND', `No journey has the id "${id}"`)

async function found(db: Queryable, ws: string, id: string): Promise<JourneyRecord> {
  const journey = await getJourney(db, ws, id)
  if (!journey) throw notFound(id)
  return journey
}

/** Every issue of a document, checked against what the workspace holds. */
async function checkInWorkspace(tx: Queryable, ws: string, document: unknown): Promise<Journey> {
  const channels = await templateChannels(tx, ws)
  const checked = checkDocument(document, { templates: Object.keys(channels), templateChannels: channels })
  const fail = (issues: readonly ErrorIssue[]) =>
    new NudgeError('NUDGE_ERR_JOURNEY_INVALID', undefined, issues)
  const issue = (i: { path: readonly (string | number)[]; message: string; hint: string | null }) => ({
    path: pathText(['body', ...i.path]),
    message: i.message,
    ...(i.hint ? { hint: i.hint } : {}),
  })
  if (!checked.ok) throw fail(checked.issues.map(issue))
  const others = (await latestDefinitions(tx, ws))
    .filter((o) => o.journeyId !== checked.journey.id)
    .flatMap((o) => {
      const parsed = JourneyDocumentSchema.safeParse(o.definition)
      return parsed.success ? [parsed.data] : []
    })
  const loops = checkCycles([checked.journey, ...others]).filter((c) => c.journeyId === checked.journey.id)
  if (loops.length > 0) throw fail(loops.map((c) => issue(c.issue)))
  return checked.journey
}

export function journeyRoutes(app: FastifyInstance, deps: AdminDeps): void {
  const tags = ['journeys']
  route(
    app,
    {
      method: 'GET',
      path: '/api/v1/journeys',
      operationId: 'listJourneys',
      summary: 'Journeys of the workspace, by id',
      tags,
      security: 'adminKey',
      response: z.object({ items: z.array(JourneySummary) }),
    },
    async ({ req }) => ({ items: (await listJourneys(deps.db, workspaceOf(req))).map(summaryJson) }),
  )

  route(
    app,
    {
      method: 'POST',
      path: '/api/v1/journeys',
      operationId: 'applyJourney',
      summary: 'Create a journey, or a new version of it; an identical document changes nothing',
      description:
        'The document is checked like `nudge validate` does, against the stored templates and the other ' +
        'journeys of the workspace. On any problem: 400 NUDGE_ERR_JOURNEY_INVALID with every issue ' +
        '(path, message, hint) and nothing stored. The new version is a draft until published.',
      tags,
      security: 'adminKey',
      body: Document,
      response: z.object({
        outcome: z.enum(['created', 'versioned', 'unchanged']),
        version: z.number().int().describe('The version the document is stored as'),
        journey: JourneySummary,
      }),
    },
    async ({ body, req }) => {
      const ws = workspaceOf(req)
      const { outcome, journey } = await deps.db.transaction(async (tx) => {
        const checked = await checkInWorkspace(tx, ws, body)
        // Stored as sent (after the check), so the version reads back as the author wrote it.
        return applyJourney(tx, ws, { ...body, id: checked.id, name: checked.name })
      })
      return { outcome, version: journey.latestVersion, journey: summaryJson(journey) }
    },
  )

  route(
    app,
    {
      method: 'GET',
      path: '/api/v1/journeys/{id}',
      operationId: 'getJourney',
      summary: 'A journey: its status, live version and versions',
      tags,
      security: 'adminKey',
      params: IdParams,
      response: JourneyDetail,
      errors: [404],
    },
    async ({ params, req }) => {
      const ws = workspaceOf(req)
      const journey = await found(deps.db, ws, params.id)
      const versions = await listJourneyVersions(deps.db, ws, params.id)
      return {
        ...summaryJson(journey),
        versions: versions.map((v) => ({ ...v, createdAt: v.createdAt.toISOString() })),
      }
    },
  )

  route(
    app,
    {
      method: 'GET',
      path: '/api/v1/journeys/{id}/versions/{version}',
      operationId: 'getJourneyVersion',
      summary: 'One version of a journey: the document, exactly as stored (versions never change)',
      tags,
      security: 'adminKey',
      params: IdParams.extend({ version: z.coerce.number().int().positive() }),
      response: VersionSummary.extend({ id: z.string(), definition: Document }),
      errors: [404],
    },
    async ({ params, req }) => {
      const v = await getJourneyVersion(deps.db, workspaceOf(req), params.id, params.version)
      if (!v)
        throw new NudgeError('NUDGE_ERR_NOT_FOUND', `Journey "${params.id}" has no version ${params.version}`)
      return {
        id: v.journeyId,
        version: v.version,
        checksum: v.checksum,
        createdAt: v.createdAt.toISOString(),
        definition: v.definition,
      }
    },
  )

  route(
    app,
    {
      method: 'POST',
      path: '/api/v1/journeys/{id}/publish',
      operationId: 'publishJourney',
      summary: 'Make a version the one new runs enter (the latest unless `version` is given)',
      description:
        'Publishing an older version rolls back. Runs already started stay on the version they entered.',
      tags,
      security: 'adminKey',
      params: IdParams,
      body: z.object({ version: z.number().int().positive().optional() }).optional(),
      response: JourneySummary,
      errors: [404, 409],
    },
    async ({ params, body, req }) => {
      const ws = workspaceOf(req)
      const journey = await deps.db.transaction(async (tx) => {
        const current = await found(tx, ws, params.id)
        const version = body?.version ?? current.latestVersion
        if (!(await getJourneyVersion(tx, ws, params.id, version)))
          throw new NudgeError('NUDGE_ERR_NOT_FOUND', `Journey "${params.id}" has no version ${version}`)
        if (!(await publishVersion(tx, ws, params.id, version)))
          throw new NudgeError(
            'NUDGE_ERR_JOURNEY_STATE',
            `Journey "${params.id}" is archived; it cannot be published`,
          )
        return found(tx, ws, params.id)
      })
      return summaryJson(journey)
    },
  )

  const transition = (
    action: 'pause' | 'resume' | 'archive',
    summary: string,
    apply: (tx: Queryable, ws: string, j: JourneyRecord) => Promise<boolean>,
    refusal: (j: JourneyRecord) => string,
  ) =>
    route(
      app,
      {
        method: 'POST',
        path: `/api/v1/journeys/{id}/${action}`,
        operationId: `${action}Journey`,
        summary,
        tags,
        security: 'adminKey',
        params: IdParams,
        response: JourneySummary,
        errors: [404, 409],
      },
      async ({ params, req }) => {
        const ws = workspaceOf(req)
        const journey = await deps.db.transaction(async (tx) => {
          const current = await found(tx, ws, params.id)
          if (!(await apply(tx, ws, current)))
            throw new NudgeError('NUDGE_ERR_JOURNEY_STATE', refusal(current))
          return found(tx, ws, params.id)
        })
        return summaryJson(journey)
      },
    )

  transition(
    'pause',
    'Stop new entries and freeze running runs until resumed',
    (tx, ws, j) => setJourneyStatus(tx, ws, j.journeyId, 'paused'),
    (j) => `Journey "${j.journeyId}" is ${j.status}; only a published journey can be paused`,
  )
  transition(
    'resume',
    'Resume a paused journey on the version it was live on',
    async (tx, ws, j) =>
      j.status === 'paused' && j.liveVersion !== null && publishVersion(tx, ws, j.journeyId, j.liveVersion),
    (j) => `Journey "${j.journeyId}" is ${j.status}; only a paused journey can be resumed`,
  )
  transition(
    'archive',
    'End the journey for good: no new entries, running runs stop',
    (tx, ws, j) => setJourneyStatus(tx, ws, j.journeyId, 'archived'),
    (j) => `Journey "${j.journeyId}" is already archived`,
  )

  route(
    app,
    {
      method: 'DELETE',
      path: '/api/v1/journeys/{id}',
      operationId: 'deleteJourney',
      summary: 'Delete a journey that was never published, with its versions',
      description: 'A journey that was ever published has runs to explain; archive it instead (409).',
      tags,
      security: 'adminKey',
      params: IdParams,
      response: z.object({ id: z.string(), deleted: z.literal(true) }),
      errors: [404, 409],
    },
    async ({ params, req }) => {
      const ws = workspaceOf(req)
      await deps.db.transaction(async (tx) => {
        const current = await found(tx, ws, params.id)
        if (!(await deleteDraftJourney(tx, ws, params.id)))
          throw new NudgeError(
            'NUDGE_ERR_JOURNEY_STATE',
            `Journey "${current.journeyId}" was published; archive it instead (POST /api/v1/journeys/${current.journeyId}/archive)`,
          )
      })
      return { id: params.id, deleted: true as const }
    },
  )
}
