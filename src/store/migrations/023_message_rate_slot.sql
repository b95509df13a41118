-- The channel rate-limit slot a message holds while it waits for it (docs/guards.md): a
-- message deferred for the rate limit keeps the slot it reserved, and sends on it when it
-- is claimed again, instead of reserving another one behind every message queued since.
ALTER TABLE messages ADD COLUMN rate_slot_at timestamptz;
-- Messages holding a slot are claimed first, through this index (the outbox's backlog of
-- new messages is not read to find them).
CREATE INDEX messages_held ON messages (not_before)
  WHERE rate_slot_at IS NOT NULL AND status IN ('queued', 'sending');
