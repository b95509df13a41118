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
