// A member's community state as the APIs show it: stage (with "stuck"), engagement score
// decayed to now, and the badges held (not revoked). Shared by the admin and member APIs.
import { z } from 'zod'
import { scoreAt } from '../domain/community/score.ts'
import { isStuck } from '../domain/community/stage-progress.ts'
import { type CommunitySettings, loadSettings } from '../runtime/community/settings.ts'
import { loadCommunityView } from '../store/community.ts'
import type { Queryable } from '../store/db.ts'

const Timestamp = z.iso.datetime()

export const CommunityViewSchema = z
  .object({
    stage: z
      .object({
        id: z.string(),
        name: z.string(),
        enteredAt: Timestamp,
        stuck: z.boolean().describe('In the stage longer than its stuck_after'),
      })
      .nullable(),
    score: z.number().describe('Engagement score decayed to now'),
    badges: z.array(
      z.object({
        badge: z.string(),
        name: z.string(),
        count: z.number(),
        firstAwardedAt: Timestamp,
        lastAwardedAt: Timestamp,
      }),
    ),
  })
  .meta({ id: 'CommunityView' })

/** A member's stage, score and badges (not revoked) as the admin API and the member API show them. */
export async function communityView(
  q: Queryable,
  ws: string,
  profileId: string,
  now: Date,
  settings?: CommunitySettings,
): Promise<z.input<typeof CommunityViewSchema>> {
  const s = settings ?? (await loadSettings(q, ws))
  const v = await loadCommunityView(q, ws, profileId)
  const i = v.stage ? s.stages.index.get(v.stage.stage) : undefined
  const names = new Map(s.badges.map((b) => [b.id, b.name]))
  return {
    stage:
      v.stage && i !== undefined
        ? {
            id: v.stage.stage,
            name: s.stages.stages[i]?.name ?? v.stage.stage,
            enteredAt: v.stage.enteredAt.toISOString(),
            stuck: isStuck(s.stages, v.stage, now),
          }
        : null,
    score: v.score ? scoreAt(v.score, now, s.score.halfLifeMs) : 0,
    badges: v.badges.map((b) => ({
      badge: b.badge,
      name: names.get(b.badge) ?? b.badge,
      count: b.count,
      firstAwardedAt: b.firstAwardedAt.toISOString(),
      lastAwardedAt: b.lastAwardedAt.toISOString(),
    })),
  }
}
