-- The dispatcher: why each message has its status (the deciding guard's sentence, the
-- channel's answer), every guard's verdict, and each workspace's channel settings.
ALTER TABLE messages ADD COLUMN reason text;
ALTER TABLE messages ADD COLUMN verdicts jsonb;

-- One row per workspace and channel (webhook, sms, push; email overrides the
-- process-wide NUDGE_SMTP_URL). Secrets are stored as given and never read back out
-- through the API.
CREATE TABLE channel_configs (
  workspace_id  text NOT NULL,
  channel       text NOT NULL,
  config        jsonb NOT NULL,
  updated_at    timestamptz NOT NULL,
  PRIMARY KEY (workspace_id, channel)
);
