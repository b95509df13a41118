-- The community model's state: current stage and its history, engagement score, badges.
-- Keyed (workspace_id, profile_id, ...) like every per-profile table.

-- Where each member stands now (one row per profile).
CREATE TABLE profile_stages (
  workspace_id            text NOT NULL,
  profile_id              uuid NOT NULL,
  stage                   text NOT NULL,
  entered_at              timestamptz NOT NULL,
  -- When the stage's demotion rule was first seen holding; null when it does not.
  demotion_pending_since  timestamptz,
  -- Set when Stage Stuck fired for this entry, so it fires once per entry.
  stuck_notified_at       timestamptz,
  PRIMARY KEY (workspace_id, profile_id)
);
-- Distribution and stuck lists: per stage, oldest entry first.
CREATE INDEX profile_stages_stage ON profile_stages (workspace_id, stage, entered_at);

-- Every transition, append-only: the funnel's history and the conversion reports.
CREATE TABLE profile_stage_history (
  workspace_id             text NOT NULL,
  profile_id               uuid NOT NULL,
  seq                      bigint GENERATED ALWAYS AS IDENTITY,
  stage                    text NOT NULL,
  previous_stage           text,
  direction                text NOT NULL CHECK (direction IN ('up', 'down')),
  entered_at               timestamptz NOT NULL,
  time_in_previous_ms      bigint,
  -- Who moved the member by hand; null for automatic moves.
  moved_by                 text,
  PRIMARY KEY (workspace_id, profile_id, seq)
);
CREATE INDEX profile_stage_history_time ON profile_stage_history (workspace_id, entered_at);

-- Engagement score as { value, at }, decayed on read. rank_key = log2(value) + at/half_life
-- orders members by their decayed score at any moment, so "top contributors" is an index scan.
CREATE TABLE profile_scores (
  workspace_id  text NOT NULL,
  profile_id    uuid NOT NULL,
  value         double precision NOT NULL CHECK (value >= 0),
  at            timestamptz NOT NULL,
  rank_key      double precision,
  PRIMARY KEY (workspace_id, profile_id)
);
CREATE INDEX profile_scores_rank ON profile_scores (workspace_id, rank_key DESC NULLS LAST);

CREATE TABLE profile_badges (
  workspace_id      text NOT NULL,
  profile_id        uuid NOT NULL,
  badge             text NOT NULL,
  count             integer NOT NULL CHECK (count >= 1),
  first_awarded_at  timestamptz NOT NULL,
  last_awarded_at   timestamptz NOT NULL,
  revoked_at        timestamptz,
  revoked_by        text,
  PRIMARY KEY (workspace_id, profile_id, badge)
);
CREATE INDEX profile_badges_badge ON profile_badges (workspace_id, badge) WHERE revoked_at IS NULL;
