-- Email delivery reports, and channel settings from a config file.
--
-- Every mail leaves with the envelope sender
-- bounce+<handle>@<inbound domain>; the handle leads a DSN or a complaint back to its message
-- and to the hash of the address it went to (the address itself is not kept).
CREATE TABLE bounce_handles (
  handle        text PRIMARY KEY,
  workspace_id  text NOT NULL,
  profile_id    uuid NOT NULL,
  message_id    text NOT NULL,
  address_hash  text,
  created_at    timestamptz NOT NULL
);

-- Each report received (DSN, feedback report, provider event), kept once: the same report
-- delivered twice is recognised by its id and changes nothing the second time.
CREATE TABLE delivery_reports (
  workspace_id  text NOT NULL,
  profile_id    uuid NOT NULL,
  report_id     text NOT NULL,
  message_id    text NOT NULL,
  channel       text NOT NULL,
  source        text NOT NULL,
  kind          text NOT NULL,
  status        text,
  detail        text,
  received_at   timestamptz NOT NULL,
  PRIMARY KEY (workspace_id, profile_id, report_id)
);
CREATE INDEX delivery_reports_message ON delivery_reports (workspace_id, message_id);

-- Channel settings written from a config file remember which version of the file's settings
-- they are: a restart with the same file keeps what the admin API changed since, a changed
-- file writes its settings again.
ALTER TABLE channel_configs ADD COLUMN file_checksum text;
