-- Messaging metrics: when a message was credited with its run's conversion and with an
-- unsubscribe from its link, and the indexes the per-template and all-channels views read,
-- and the bot hits of a period (which the views count apart).
-- (The per-journey view reads messages_journey.)
ALTER TABLE messages ADD COLUMN converted_at timestamptz;
ALTER TABLE messages ADD COLUMN unsubscribed_at timestamptz;
CREATE INDEX messages_template ON messages (workspace_id, template, created_at);
CREATE INDEX messages_recent ON messages (workspace_id, created_at);
CREATE INDEX message_engagements_bot_recent ON message_engagements (workspace_id, last_at) WHERE bot;
