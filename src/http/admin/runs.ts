// GET /api/v1/profiles/{id}/journeys: a person's journey runs with their trace, told in
// sentences ("why did (not) Ann get this?"), and why they never entered a journey asked about.
import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import { NudgeError } from '../../domain/errors.ts'
import { planOf } from '../../domain/journeys/plan.ts'
import { JourneySchema } from '../../domain/journeys/schema.ts'
import {
  type MessageFate,
  type StoryOptions,
  tellNeverEntered,
  tellRun,
  tellSkipped,
} from '../../domain/journeys/story.ts'
import type { TraceEntry } from '../../domain/journeys/trace.ts'
import type { Journey } from '../../domain/journeys/types.ts'
import { explainWhy } from '../../domain/journeys/why.ts'
import { type QueuedFacts, queueWait } from '../../domain/messages/queue-wait.ts'
import { guardPolicyOf } from '../../runtime/dispatch/workspace.ts'
import type { Queryable } from '../../store/db.ts'
import { getJourneyVersion, listJourneys } from '../../store/journeys.ts'
import { AHEAD_MAX, queuedAhead } from '../../store/messages.ts'
import { getProfile, profileFamily } from '../../store/profiles/read.ts'
import { profileRuns, profileTrace, type RunMessage, runMessages, type StoredRun } from '../../store/runs.ts'
import { route } from '../openapi.ts'
import { type AdminDeps, workspaceOf } from './context.ts'
import { ProfileParams, profileNotFound } from './profiles.ts'

const Timestamp = z.iso.datetime()

const TraceEntrySchema = z
  .object({
    at: Timestamp,
    stepId: z.string().nullable(),
    kind: z
      .string()
      .describe('entered, skipped, delayed, waiting, received, timed_out, branch, split, send, …'),
    message: z.string(),
    data: z.record(z.string(), z.unknown()),
  })
  .meta({ id: 'TraceEntry' })

const RunSchema = z
  .object({
    runId: z.string(),
    version: z.number().int(),
    status: z.enum(['delayed', 'waiting', 'completed', 'exited', 'converted', 'failed']),
    key: z.string().describe('The entry key: "once", the once_per_key value, or event:<messageId>'),
    startedAt: Timestamp,
    endedAt: Timestamp.nullable(),
    currentStep: z.string().nullable().describe('The delay or wait step the run stands on'),
    waitingUntil: Timestamp.nullable(),
    outcome: z.string().nullable(),
    messages: z
      .array(
        z.object({
          stepId: z.string(),
          status: z.string(),
          error: z.string().nullable(),
          waiting: z
            .string()
            .nullable()
            .describe('For a queued message: what it waits for (its due time, its turn under a rate limit)'),
        }),
      )
      .describe('What became of each message the run queued: queued, sent, delivered, capped, suppressed, …'),
    trace: z.array(TraceEntrySchema),
  })
  .meta({ id: 'JourneyRun' })

const ProfileJourneysSchema = z
  .object({
    profile: z.object({ id: z.uuid(), userId: z.string().nullable() }),
    journeys: z.array(
      z.object({
        journeyId: z.string(),
        name: z.string(),
        runs: z.array(RunSchema).describe('Newest first'),
        skipped: z.array(TraceEntrySchema).describe('Entries that were refused, with the reason'),
        story: z.array(z.string()).describe('One sentence per run, or why the person never entered'),
        why: z
          .array(z.string())
          .optional()
          .describe('With `template`: why the person did or did not get that message'),
      }),
    ),
  })
  .meta({ id: 'ProfileJourneys' })

const traceJson = (t: TraceEntry): z.input<typeof TraceEntrySchema> => ({
  at: t.at.toISOString(),
  stepId: t.stepId,
  kind: t.kind,
  message: t.message,
  data: t.data,
})

/** How a sentence names the person: a first name when the traits have one. */
function nameOf(traits: Readonly<Record<string, unknown>>, fallback: string): string {
  for (const k of ['first_name', 'firstName', 'name']) {
    const v = traits[k]
    if (typeof v === 'string' && v.trim()) return v.trim()
  }
  return fallback
}

/** Journey definitions by version, read once per request. */
function definitions(db: Queryable, ws: string) {
  const cache = new Map<string, Promise<Journey | undefined>>()
  return (journeyId: string, version: number) => {
    const key = `${journeyId}/${version}`
    let hit = cache.get(key)
    if (!hit) {
      hit = getJourneyVersion(db, ws, journeyId, version).then((v) =>
        v ? JourneySchema.parse(v.definition) : undefined,
      )
      cache.set(key, hit)
    }
    return hit
  }
}

const sends = (j: Journey, template: string) =>
  [...planOf(j).byId.values()].some((n) => n.step.type === 'send' && n.step.template === template)

export function runRoutes(app: FastifyInstance, deps: AdminDeps): void {
  route(
    app,
    {
      method: 'GET',
      path: '/api/v1/profiles/{id}/journeys',
      operationId: 'listProfileJourneys',
      summary: "A person's journey runs with their trace, and why they did (not) get a message",
      description:
        'Each journey the person entered or tried to enter, with every run (newest first), its trace and ' +
        'one plain sentence per run. With `journey`, that journey even if the person never entered it, ' +
        'saying why (trigger event never seen, filter never matched, entry skipped because …). With ' +
        '`template` (and no `journey`), the journeys that send it, entered or not, and `why` answers ' +
        '"why did (not) they get it?". ' +
        'Times in sentences are in the member timezone (UTC when unknown).',
      tags: ['profiles', 'journeys'],
      security: 'adminKey',
      params: ProfileParams,
      query: z.object({
        journey: z.string().min(1).max(200).optional().describe('Only this journey id'),
        template: z.string().min(1).max(200).optional().describe('Explain this message template'),
      }),
      response: ProfileJourneysSchema,
      errors: [404],
    },
    async ({ params, query, req }) => {
      const ws = workspaceOf(req)
      const profile = await getProfile(deps.db, ws, params.id)
      if (!profile) throw profileNotFound(params.id)
      const family = await profileFamily(deps.db, ws, profile.id)
      const [runs, trace, messages] = await Promise.all([
        profileRuns(deps.db, ws, family, query.journey),
        profileTrace(deps.db, ws, family, query.journey),
        runMessages(deps.db, ws, family, query.journey),
      ])
      const definitionOf = definitions(deps.db, ws)
      const records = new Map((await listJourneys(deps.db, ws)).map((j) => [j.journeyId, j]))

      const ids = new Set<string>([...runs.map((r) => r.journeyId), ...trace.map((t) => t.journeyId)])
      if (query.journey) {
        if (!records.has(query.journey))
          throw new NudgeError(
            'NUDGE_ERR_NOT_FOUND',
            `No journey has the id "${query.journey}": use the id written in its file (id: …)`,
          )
        ids.add(query.journey)
      } else if (query.template) {
        // "Why did (not) Ann get this template?": the journeys that send it, entered or not.
        ids.clear()
        for (const j of records.values()) {
          const d = await definitionOf(j.journeyId, j.liveVersion ?? j.latestVersion)
          if (d && sends(d, query.template)) ids.add(j.journeyId)
        }
      }

      const now = deps.clock?.now() ?? new Date()
      const opts: StoryOptions = {
        who: nameOf(profile.traits, profile.userId ?? profile.id),
        timezone: profile.timezone,
        messages: await messageFates(deps.db, ws, messages),
        now,
      }
      const journeys = []
      for (const journeyId of [...ids].sort()) {
        const record = records.get(journeyId)
        const mine = runs.filter((r) => r.journeyId === journeyId)
        const skipped = trace.filter((t) => t.journeyId === journeyId && t.runId === null)
        const latest = mine[0]?.version ?? record?.liveVersion ?? record?.latestVersion
        const journey = latest === undefined ? undefined : await definitionOf(journeyId, latest)
        if (!journey) continue
        const story: string[] = []
        for (const r of mine) {
          const d = (await definitionOf(journeyId, r.version)) ?? journey
          story.push(tellRun(d, r.run, trace, opts))
        }
        if (mine.length > 0) story.push(...tellSkipped(skipped, opts))
        else {
          const trigger = journey.trigger
          const counter =
            trigger.type === 'event' ? profile.counters.find((c) => c.event === trigger.event) : undefined
          story.push(
            ...tellNeverEntered(
              {
                journey,
                skipped,
                ...(trigger.type === 'event'
                  ? { triggerEvents: { count: counter?.count ?? 0, lastAt: counter?.lastAt ?? null } }
                  : {}),
                appliedAt: record?.createdAt ?? null,
              },
              opts,
            ),
          )
        }
        const history = mine.map((r) => ({ run: r.run, trace: trace.filter((t) => t.runId === r.run.id) }))
        journeys.push({
          journeyId,
          name: record?.name ?? journey.name,
          runs: mine.map((r) =>
            runJson(
              r,
              history.find((h) => h.run === r.run)?.trace ?? [],
              messages.filter((m) => m.runId === r.run.id),
              (m) => {
                const queued = opts.messages?.get(`${m.runId}/${m.stepId}`)?.queued
                return queued ? queueWait(queued, now, (d) => `at ${d.toISOString()}`) : null
              },
            ),
          ),
          skipped: skipped.map(traceJson),
          story,
          ...(query.template
            ? {
                why: explainWhy({
                  journey,
                  template: query.template,
                  runs: history,
                  skipped,
                  who: opts.who,
                  ...(opts.messages ? { messages: opts.messages } : {}),
                  now,
                }),
              }
            : {}),
        })
      }
      return { profile: { id: profile.id, userId: profile.userId }, journeys }
    },
  )
}

/**
 * What became of each message, by `${runId}/${stepId}`; for one still queued, what it waits
 * for: its due time, or its turn under the channel's rate limit behind the messages due
 * before it.
 */
async function messageFates(
  db: Queryable,
  ws: string,
  messages: readonly RunMessage[],
): Promise<Map<string, MessageFate>> {
  const key = (m: RunMessage) => `${m.runId}/${m.stepId}`
  const queued = messages.flatMap((m) =>
    m.queued ? [{ ...m, key: key(m), notBefore: m.queued.notBefore }] : [],
  )
  const rateLimits = queued.length > 0 ? (await guardPolicyOf(db, ws)).rateLimits : undefined
  const ahead = await queuedAhead(db, ws, queued)
  const out = new Map<string, MessageFate>()
  for (const m of messages) {
    const facts: QueuedFacts | null = m.queued
      ? {
          channel: m.channel,
          notBefore: m.queued.notBefore,
          reason: m.queued.reason,
          rate: rateLimits?.[m.channel as keyof typeof rateLimits] ?? null,
          ahead: ahead.get(key(m)) ?? 0,
          aheadMax: AHEAD_MAX,
        }
      : null
    out.set(key(m), { status: m.status, error: m.error, queued: facts })
  }
  return out
}

function runJson(
  stored: StoredRun,
  trace: readonly TraceEntry[],
  messages: readonly RunMessage[],
  waiting: (m: RunMessage) => string | null,
): z.input<typeof RunSchema> {
  const { run } = stored
  return {
    runId: run.id,
    version: stored.version,
    status: run.status,
    key: run.key,
    startedAt: run.enteredAt.toISOString(),
    endedAt: run.endedAt?.toISOString() ?? null,
    currentStep: run.cursor,
    waitingUntil: run.pending?.until.toISOString() ?? null,
    outcome: run.outcome,
    messages: messages.map((m) => ({
      stepId: m.stepId,
      status: m.status,
      error: m.error,
      waiting: waiting(m),
    })),
    trace: trace.map(traceJson),
  }
}
