-- Each workspace's community configuration: its funnel, its score table and its badge
-- rules. A null column means the defaults (docs/community.md). Replaced whole by the
-- admin API after validation, so a row always holds a configuration that was accepted.
CREATE TABLE community_settings (
  workspace_id  text PRIMARY KEY,
  stages        jsonb,
  score         jsonb,
  badges        jsonb,
  updated_at    timestamptz NOT NULL,
  updated_by    text
);

-- Activity for the community reports, written when a member earns points (an event worth
-- points, positive): the last such moment, and each week (Monday, UTC) with one. "Active
-- vs inactive" and the weekly cohorts read these instead of scanning the events log.
ALTER TABLE profile_scores ADD COLUMN last_active_at timestamptz;
CREATE TABLE profile_activity_weeks (
  workspace_id  text NOT NULL,
  profile_id    uuid NOT NULL,
  week          date NOT NULL,
  PRIMARY KEY (workspace_id, profile_id, week)
);

-- The period reports (conversion, distribution at a past date, cohorts) read the history
-- by time; covering the columns they use lets them answer from the index alone. It
-- replaces the plain time index of 007.
CREATE INDEX profile_stage_history_period ON profile_stage_history (workspace_id, entered_at)
  INCLUDE (stage, previous_stage, direction, time_in_previous_ms, profile_id, seq);
DROP INDEX profile_stage_history_time;
