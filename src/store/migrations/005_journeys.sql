-- Journeys (definitions and immutable versions), runs, durable timers, the outbox
-- of messages to send, and the trace of every decision.

CREATE TABLE journeys (
  workspace_id    text NOT NULL,
  journey_id      text NOT NULL,
  name            text NOT NULL,
  -- draft -> published <-> paused; any -> archived
  status          text NOT NULL CHECK (status IN ('draft', 'published', 'paused', 'archived')),
  -- The version new runs enter; null while only drafts exist.
  live_version    integer,
  latest_version  integer NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (workspace_id, journey_id)
);

CREATE TABLE journey_versions (
  workspace_id  text NOT NULL,
  journey_id    text NOT NULL,
  version       integer NOT NULL,
  definition    jsonb NOT NULL,
  -- sha256 of the canonical definition: applying the same document twice is a no-op.
  checksum      text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (workspace_id, journey_id, version)
);

CREATE TABLE journey_runs (
  workspace_id  text NOT NULL,
  profile_id    uuid NOT NULL,
  run_id        text NOT NULL,
  journey_id    text NOT NULL,
  version       integer NOT NULL,
  entry_key     text NOT NULL,
  status        text NOT NULL,
  state         jsonb NOT NULL,
  started_at    timestamptz NOT NULL,
  updated_at    timestamptz NOT NULL,
  ended_at      timestamptz,
  PRIMARY KEY (workspace_id, profile_id, run_id)
);
CREATE INDEX journey_runs_by_journey ON journey_runs (workspace_id, journey_id, started_at);
CREATE INDEX journey_runs_open ON journey_runs (workspace_id, profile_id) WHERE ended_at IS NULL;

-- Durable timers for every kind of wake-up (journey steps, segment re-checks, stuck
-- stages). Claimed in batches with FOR UPDATE SKIP LOCKED; a claimed timer whose
-- lease ran out is due again, so a crashed worker's timers are not lost.
CREATE TABLE timers (
  workspace_id  text NOT NULL,
  profile_id    uuid NOT NULL,
  timer_id      text NOT NULL,
  kind          text NOT NULL,
  fire_at       timestamptz NOT NULL,
  payload       jsonb NOT NULL DEFAULT '{}',
  lease_owner   text,
  lease_until   timestamptz,
  attempts      integer NOT NULL DEFAULT 0,
  last_error    text,
  PRIMARY KEY (workspace_id, profile_id, timer_id)
);
CREATE INDEX timers_due ON timers (fire_at);

-- Messages: the outbox the dispatcher drains, and the log of what happened to each.
-- message_id is the effect's idempotency key, so a retried transaction never queues twice.
CREATE TABLE messages (
  workspace_id  text NOT NULL,
  profile_id    uuid NOT NULL,
  message_id    text NOT NULL,
  journey_id    text,
  run_id        text,
  step_id       text,
  channel       text NOT NULL,
  template      text NOT NULL,
  -- queued -> sending -> sent -> delivered -> opened -> clicked; or suppressed | capped |
  -- deferred | dropped | bounced | failed
  status        text NOT NULL,
  payload       jsonb NOT NULL DEFAULT '{}',
  not_before    timestamptz NOT NULL,
  attempts      integer NOT NULL DEFAULT 0,
  lease_owner   text,
  lease_until   timestamptz,
  last_error    text,
  created_at    timestamptz NOT NULL,
  updated_at    timestamptz NOT NULL,
  sent_at       timestamptz,
  PRIMARY KEY (workspace_id, profile_id, message_id),
  UNIQUE (workspace_id, message_id)
);
CREATE INDEX messages_due ON messages (not_before) WHERE status IN ('queued', 'sending');

CREATE TABLE journey_trace (
  workspace_id  text NOT NULL,
  profile_id    uuid NOT NULL,
  run_id        text NOT NULL,
  seq           bigint GENERATED ALWAYS AS IDENTITY,
  journey_id    text NOT NULL,
  at            timestamptz NOT NULL,
  step_id       text,
  kind          text NOT NULL,
  message       text NOT NULL,
  data          jsonb NOT NULL DEFAULT '{}',
  PRIMARY KEY (workspace_id, profile_id, run_id, seq)
);
CREATE INDEX journey_trace_by_journey ON journey_trace (workspace_id, journey_id, at);
