-- Processor bookkeeping on the events log: retries with backoff and a dead letter.
-- An event is pending while processed_at IS NULL. A failing event keeps its partition
-- waiting until retry_at (order per profile is kept), and after the last attempt it is
-- dead-lettered: processed_at is set, profile_id stays NULL and process_error says why.
ALTER TABLE events ADD COLUMN attempts smallint NOT NULL DEFAULT 0;
ALTER TABLE events ADD COLUMN retry_at timestamptz;
ALTER TABLE events ADD COLUMN process_error text;

-- Dead-lettered events, for the admin side (rare rows: a small partial index).
CREATE INDEX events_dead_letter ON events (workspace_id, processed_at)
  WHERE processed_at IS NOT NULL AND process_error IS NOT NULL;
