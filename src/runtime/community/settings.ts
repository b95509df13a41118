// A workspace's community configuration, compiled for the pure functions. What is stored
// was validated when it was accepted; a column left null means the defaults.
import type { BadgeRule } from '../../domain/community/badge-rules.ts'
import {
  type CompiledScore,
  compileScore,
  DEFAULT_SCORE_CONFIG,
  type ScoreConfig,
} from '../../domain/community/score-config.ts'
import { type CompiledStages, compileStages, type StageConfig } from '../../domain/community/stage-config.ts'
import { DEFAULT_STAGE_CONFIG } from '../../domain/community/stage-defaults.ts'
import { loadCommunitySettings } from '../../store/community-settings.ts'
import type { Queryable } from '../../store/db.ts'
import { roundCacheOf } from '../../store/round-cache.ts'

export interface CommunitySettings {
  readonly stageConfig: StageConfig
  readonly scoreConfig: ScoreConfig
  readonly stages: CompiledStages
  readonly score: CompiledScore
  readonly badges: readonly BadgeRule[]
}

export function compileSettings(
  stageConfig: StageConfig,
  scoreConfig: ScoreConfig,
  badges: readonly BadgeRule[],
): CommunitySettings {
  return {
    stageConfig,
    scoreConfig,
    stages: compileStages(stageConfig),
    score: compileScore(scoreConfig),
    badges,
  }
}

export function loadSettings(q: Queryable, ws: string): Promise<CommunitySettings> {
  // Once per processing round: every event of the round reads the same configuration.
  const round = roundCacheOf(q)
  return round ? round.memo(`community-settings:${ws}`, () => readSettings(q, ws)) : readSettings(q, ws)
}

async function readSettings(q: Queryable, ws: string): Promise<CommunitySettings> {
  const s = await loadCommunitySettings(q, ws)
  return compileSettings(
    (s.stages as StageConfig | null) ?? DEFAULT_STAGE_CONFIG,
    (s.score as ScoreConfig | null) ?? DEFAULT_SCORE_CONFIG,
    (s.badges as BadgeRule[] | null) ?? [],
  )
}

/**
 * loadSettings once per workspace and transaction: a processing round's hooks share one
 * read. Only for transactions that do not change the configuration themselves.
 */
const perTx = new WeakMap<Queryable, Map<string, Promise<CommunitySettings>>>()
export function settingsOf(tx: Queryable, ws: string): Promise<CommunitySettings> {
  let m = perTx.get(tx)
  if (!m) {
    m = new Map()
    perTx.set(tx, m)
  }
  let s = m.get(ws)
  if (!s) {
    s = loadSettings(tx, ws)
    m.set(ws, s)
    // A failed read is not remembered.
    s.catch(() => m.delete(ws))
  }
  return s
}
