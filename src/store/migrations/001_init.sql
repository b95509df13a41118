-- Workspaces, keys, the events log, profiles and identities.
-- Every per-profile table is keyed (workspace_id, profile_id, ...) so it can be
-- hash-distributed by profile later without changing queries.

CREATE TABLE workspaces (
  id          text PRIMARY KEY,
  name        text NOT NULL,
  settings    jsonb NOT NULL DEFAULT '{}',
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_keys (
  id            text PRIMARY KEY,
  workspace_id  text NOT NULL REFERENCES workspaces (id),
  kind          text NOT NULL CHECK (kind IN ('write', 'admin')),
  -- sha256 of the secret; the secret itself is shown once and never stored.
  key_hash      text NOT NULL UNIQUE,
  name          text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  revoked_at    timestamptz
);

-- Append-only log of everything ingested. `partition` is a hash of the identity
-- the event arrived with; the processor consumes partitions in seq order.
CREATE TABLE events (
  workspace_id  text NOT NULL,
  seq           bigint GENERATED ALWAYS AS IDENTITY,
  message_id    text NOT NULL,
  type          text NOT NULL CHECK (type IN ('identify', 'track', 'page', 'screen', 'group', 'alias')),
  name          text,
  user_id       text,
  anonymous_id  text,
  partition     smallint NOT NULL,
  timestamp     timestamptz NOT NULL,
  received_at   timestamptz NOT NULL,
  payload       jsonb NOT NULL,
  -- Filled in by the processor once the event has been applied to its profile.
  profile_id    uuid,
  processed_at  timestamptz,
  PRIMARY KEY (workspace_id, seq),
  UNIQUE (workspace_id, message_id)
);
CREATE INDEX events_pending ON events (partition, seq) WHERE processed_at IS NULL;
CREATE INDEX events_profile_timeline ON events (workspace_id, profile_id, timestamp DESC, seq DESC)
  WHERE profile_id IS NOT NULL;

CREATE TABLE profiles (
  workspace_id   text NOT NULL,
  profile_id     uuid NOT NULL,
  user_id        text,
  traits         jsonb NOT NULL DEFAULT '{}',
  timezone       text,
  first_seen_at  timestamptz NOT NULL,
  last_seen_at   timestamptz NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  -- Set when this profile was merged into another; reads follow it.
  merged_into    uuid,
  PRIMARY KEY (workspace_id, profile_id)
);
CREATE UNIQUE INDEX profiles_user_id ON profiles (workspace_id, user_id) WHERE user_id IS NOT NULL AND merged_into IS NULL;
CREATE INDEX profiles_email ON profiles (workspace_id, lower(traits ->> 'email'));

-- Every identifier ever seen for a profile: userId and anonymousIds.
CREATE TABLE profile_identities (
  workspace_id  text NOT NULL,
  kind          text NOT NULL CHECK (kind IN ('user_id', 'anonymous_id')),
  value         text NOT NULL,
  profile_id    uuid NOT NULL,
  first_seen_at timestamptz NOT NULL,
  PRIMARY KEY (workspace_id, kind, value)
);
CREATE INDEX profile_identities_profile ON profile_identities (workspace_id, profile_id);

CREATE TABLE profile_event_counters (
  workspace_id  text NOT NULL,
  profile_id    uuid NOT NULL,
  event         text NOT NULL,
  count         bigint NOT NULL,
  first_at      timestamptz NOT NULL,
  last_at       timestamptz NOT NULL,
  PRIMARY KEY (workspace_id, profile_id, event)
);

CREATE TABLE groups (
  workspace_id  text NOT NULL,
  group_id      text NOT NULL,
  traits        jsonb NOT NULL DEFAULT '{}',
  updated_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (workspace_id, group_id)
);

CREATE TABLE profile_groups (
  workspace_id  text NOT NULL,
  profile_id    uuid NOT NULL,
  group_id      text NOT NULL,
  joined_at     timestamptz NOT NULL,
  PRIMARY KEY (workspace_id, profile_id, group_id)
);

-- Who must never be contacted or re-created from personal data: erased profiles,
-- later unsubscribes and bounces. Values are sha256 hashes, not the data itself.
CREATE TABLE suppressions (
  workspace_id  text NOT NULL,
  kind          text NOT NULL,
  value_hash    text NOT NULL,
  reason        text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (workspace_id, kind, value_hash)
);

-- Leases over the processor's partitions: one worker at a time per partition.
CREATE TABLE processor_partitions (
  partition    smallint PRIMARY KEY,
  lease_owner  text,
  lease_until  timestamptz NOT NULL DEFAULT '-infinity'
);
INSERT INTO processor_partitions (partition) SELECT generate_series(0, 63);
