-- What journeys need at run time: one run per (journey, profile, key) even when two
-- workers race, templates stored with the journeys, and what the guards read and keep.

CREATE UNIQUE INDEX journey_runs_entry ON journey_runs (workspace_id, profile_id, journey_id, entry_key);

CREATE TABLE templates (
  workspace_id  text NOT NULL,
  name          text NOT NULL,
  definition    jsonb NOT NULL,
  checksum      text NOT NULL,
  updated_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (workspace_id, name)
);

-- Guard inputs kept on each message: what caps count it as, its dedupe key, and the
-- decision taken (null until the guards have looked at it).
ALTER TABLE messages ADD COLUMN category text NOT NULL DEFAULT 'marketing';
ALTER TABLE messages ADD COLUMN topic text;
ALTER TABLE messages ADD COLUMN transactional boolean NOT NULL DEFAULT false;
ALTER TABLE messages ADD COLUMN dedupe_key text;
ALTER TABLE messages ADD COLUMN decided_at timestamptz;
ALTER TABLE messages ADD COLUMN provider_id text;
CREATE INDEX messages_profile_recent ON messages (workspace_id, profile_id, created_at DESC);
CREATE INDEX messages_journey ON messages (workspace_id, journey_id, created_at) WHERE journey_id IS NOT NULL;

-- Channel rate limits (GCRA): the theoretical arrival time per workspace and channel,
-- moved forward by one atomic statement shared by all workers.
CREATE TABLE channel_rate_limits (
  workspace_id  text NOT NULL,
  channel       text NOT NULL,
  tat           double precision NOT NULL,
  PRIMARY KEY (workspace_id, channel)
);

ALTER TABLE suppressions ADD COLUMN channel text;

-- Segments: named conditions and their members, kept up to date by the processor.
CREATE TABLE segments (
  workspace_id  text NOT NULL,
  segment_id    text NOT NULL,
  name          text NOT NULL,
  definition    jsonb NOT NULL,
  updated_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (workspace_id, segment_id)
);

CREATE TABLE segment_members (
  workspace_id  text NOT NULL,
  profile_id    uuid NOT NULL,
  segment_id    text NOT NULL,
  entered_at    timestamptz NOT NULL,
  PRIMARY KEY (workspace_id, profile_id, segment_id)
);
CREATE INDEX segment_members_by_segment ON segment_members (workspace_id, segment_id, entered_at);
