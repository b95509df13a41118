-- The outbox by workspace and channel: the dispatcher claims each channel's due messages
-- on their own, at most as many as the channel's rate limit lets go now, so a backlog on a
-- limited channel waits untouched instead of being claimed and put back at every pass; and
-- the channels with queued messages are found by a skip scan of this index, one descent
-- each. It replaces the outbox's index by due time alone.
CREATE INDEX messages_due_by_channel ON messages (workspace_id, channel, not_before)
  WHERE status IN ('queued', 'sending');
DROP INDEX messages_due;
