// Awarding and revoking badges as events happen. A badge is awarded once unless its rule
// is repeatable; a revoked badge is not given back by its rule (otherwise the next event
// would undo the moderator), only by a manual award.
import { evaluate, stageMatches } from '../conditions/evaluate.ts'
import { matchesFilters } from '../conditions/history.ts'
import type { ConditionContext, EventFacts, FieldFilter } from '../conditions/types.ts'
import type { BadgeRule } from './badge-rules.ts'
import type { CommunityEvent } from './internal-event.ts'

/** A badge as a profile holds it. `count` is the number of awards (1 unless repeatable). */
export interface HeldBadge {
  readonly badge: string
  readonly count: number
  readonly firstAwardedAt: Date
  readonly lastAwardedAt: Date
  /** Set by a revocation: the profile no longer has the badge, and rules do not re-award it. */
  readonly revokedAt: Date | null
}

export interface BadgeAwardedProperties extends Record<string, unknown> {
  readonly badge: string
  readonly badge_name: string
  /** 1 for the first award, 2 for the second of a repeatable badge... */
  readonly occurrence: number
  readonly rule: BadgeRule['when']['type'] | 'manual'
  /** True when found by a backfill over past events; the timestamp is when it was earned. */
  readonly backfilled: boolean
  readonly by?: string
}

export type BadgeAward = CommunityEvent<BadgeAwardedProperties>

export function awardEvent(
  rule: Pick<BadgeRule, 'id' | 'name' | 'when'>,
  occurrence: number,
  at: Date,
  backfilled: boolean,
): BadgeAward {
  return {
    name: 'Badge Awarded',
    timestamp: at,
    properties: { badge: rule.id, badge_name: rule.name, occurrence, rule: rule.when.type, backfilled },
  }
}

/** Whether `event` counts for an event or count rule: its name, then its `where` filters. */
export function eventMatches(
  rule: { readonly event: string; readonly where?: readonly FieldFilter[] },
  event: EventFacts | null,
): boolean {
  return event !== null && event.name === rule.event && matchesFilters(event, rule.where ?? [])
}

/** How many awards a rule is owed in total at this moment (before subtracting those held). */
function earned(rule: BadgeRule, ctx: ConditionContext, have: number): number {
  const w = rule.when
  switch (w.type) {
    case 'event':
      return eventMatches(w, ctx.event) ? have + 1 : have
    case 'count':
      return Math.floor(
        ctx.history.count({ event: w.event, where: w.where ?? [], from: null, to: null }) / w.count,
      )
    case 'score':
      return ctx.profile.score >= w.min ? 1 : 0
    case 'stage':
      return stageMatches('gte', ctx.profile.stage, w.stage, ctx.stages) ? 1 : 0
    case 'condition':
      return evaluate(w.condition, ctx) ? 1 : 0
    default: {
      const never: never = w
      return never
    }
  }
}

/**
 * The awards due now. `ctx.history` must already count the event being processed, and
 * `ctx.profile` must carry the stage and score after this event. Awards made here are
 * visible to the other rules (a badge for holding three badges works in one pass).
 */
export function evaluateBadgeRules(
  rules: readonly BadgeRule[],
  ctx: ConditionContext,
  held: ReadonlyMap<string, HeldBadge>,
): BadgeAward[] {
  const awards: BadgeAward[] = []
  const given = new Map<string, number>()
  const badges = new Set(ctx.profile.badges)
  let changed = true
  // Until nothing new: each pass can only add awards, and a non-repeatable rule fires
  // once, so this ends; event and count rules are asked once (their answer cannot change).
  for (let pass = 0; changed && pass <= rules.length; pass++) {
    changed = false
    const c: ConditionContext = { ...ctx, profile: { ...ctx.profile, badges } }
    for (const rule of rules) {
      const h = held.get(rule.id)
      if (h?.revokedAt) continue
      const have = (h?.count ?? 0) + (given.get(rule.id) ?? 0)
      if (pass > 0 && (rule.when.type === 'event' || rule.when.type === 'count')) continue
      if (have > 0 && !rule.repeatable) continue
      const owed = rule.repeatable ? earned(rule, c, have) : Math.min(1, earned(rule, c, have))
      for (let k = have + 1; k <= owed; k++) awards.push(awardEvent(rule, k, ctx.now, false))
      if (owed > have) {
        given.set(rule.id, (given.get(rule.id) ?? 0) + owed - have)
        badges.add(rule.id)
        changed = true
      }
    }
  }
  return awards
}

/** The new held record after awards (from rules, backfill or by hand). */
export function recordAwards(
  held: HeldBadge | undefined,
  awards: readonly BadgeAward[],
): HeldBadge | undefined {
  let h = held
  for (const a of awards) {
    // After a revocation the badge starts again from its first award.
    h =
      h && !h.revokedAt
        ? { ...h, count: h.count + 1, lastAwardedAt: a.timestamp }
        : {
            badge: a.properties.badge,
            count: 1,
            firstAwardedAt: a.timestamp,
            lastAwardedAt: a.timestamp,
            revokedAt: null,
          }
  }
  return h
}

/** A manual award (admin API); it also lifts an earlier revocation. */
export function awardByHand(
  rule: BadgeRule,
  held: HeldBadge | undefined,
  now: Date,
  by: string,
): BadgeAward | null {
  if (held && !held.revokedAt && !rule.repeatable) return null
  const occurrence = held && !held.revokedAt ? held.count + 1 : 1
  const e = awardEvent(rule, occurrence, now, false)
  return { ...e, properties: { ...e.properties, rule: 'manual', by } }
}

export interface BadgeRevokedProperties extends Record<string, unknown> {
  readonly badge: string
  readonly by: string
  readonly reason: string | null
}

/** Revokes a held badge; null when there is nothing to revoke. */
export function revokeBadge(
  held: HeldBadge | undefined,
  now: Date,
  by: string,
  reason: string | null = null,
): { readonly held: HeldBadge; readonly event: CommunityEvent<BadgeRevokedProperties> } | null {
  if (!held || held.revokedAt) return null
  return {
    held: { ...held, revokedAt: now },
    event: { name: 'Badge Revoked', timestamp: now, properties: { badge: held.badge, by, reason } },
  }
}
