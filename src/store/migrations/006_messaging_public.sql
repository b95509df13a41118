-- What members and providers reach after a message is sent: subscription preferences,
-- open and click tracking, in-app messages, push subscriptions, and replies.
-- Per-profile tables are keyed (workspace_id, profile_id, ...) like every other.

-- The key that signs links, reply addresses and member tokens. Filled by the app with
-- crypto-random bytes on first use (store/workspace-secrets.ts): SQL's random() is not
-- meant for secrets and pgcrypto is not available everywhere.
ALTER TABLE workspaces ADD COLUMN link_secret text;

-- When a human first opened / clicked the message (bot and prefetch hits do not count).
ALTER TABLE messages ADD COLUMN opened_at timestamptz;
ALTER TABLE messages ADD COLUMN clicked_at timestamptz;

-- A member's choice for a topic x channel. '*' in topic or channel stands for all of them.
-- The guards read it: among the rows covering a message, the latest choice wins.
CREATE TABLE subscription_preferences (
  workspace_id  text NOT NULL,
  profile_id    uuid NOT NULL,
  topic         text NOT NULL,
  channel       text NOT NULL,
  subscribed    boolean NOT NULL,
  updated_at    timestamptz NOT NULL,
  PRIMARY KEY (workspace_id, profile_id, topic, channel)
);

-- Tracking hits, aggregated: one row per message, kind, target URL and bot flag, with a
-- count, so a pixel loaded a thousand times is one row and an idempotent fact.
CREATE TABLE message_engagements (
  workspace_id  text NOT NULL,
  profile_id    uuid NOT NULL,
  message_id    text NOT NULL,
  kind          text NOT NULL CHECK (kind IN ('open', 'click')),
  -- The click target; '' for opens.
  url           text NOT NULL DEFAULT '',
  -- A mail scanner, a prefetching proxy or a crawler rather than the member.
  bot           boolean NOT NULL,
  bot_reason    text,
  user_agent    text,
  count         integer NOT NULL DEFAULT 1,
  first_at      timestamptz NOT NULL,
  last_at       timestamptz NOT NULL,
  PRIMARY KEY (workspace_id, profile_id, message_id, kind, url, bot)
);

-- The in_app channel's messages, fetched by the widget through the public API.
CREATE TABLE in_app_messages (
  workspace_id  text NOT NULL,
  profile_id    uuid NOT NULL,
  -- The message log's id: sending the same message twice stores it once.
  message_id    text NOT NULL,
  kind          text NOT NULL CHECK (kind IN ('inbox', 'banner', 'modal', 'fullscreen')),
  title         text,
  body          text NOT NULL,
  url           text,
  created_at    timestamptz NOT NULL,
  read_at       timestamptz,
  dismissed_at  timestamptz,
  PRIMARY KEY (workspace_id, profile_id, message_id)
);
CREATE INDEX in_app_messages_visible ON in_app_messages (workspace_id, profile_id, created_at DESC)
  WHERE dismissed_at IS NULL;

-- Browser Web Push subscriptions; a member may have one per browser.
CREATE TABLE push_subscriptions (
  workspace_id  text NOT NULL,
  profile_id    uuid NOT NULL,
  endpoint      text NOT NULL,
  p256dh        text NOT NULL,
  auth          text NOT NULL,
  user_agent    text,
  created_at    timestamptz NOT NULL,
  updated_at    timestamptz NOT NULL,
  PRIMARY KEY (workspace_id, profile_id, endpoint)
);
-- The push service reports an endpoint as gone: remove it wherever it is.
CREATE INDEX push_subscriptions_endpoint ON push_subscriptions (workspace_id, endpoint);

-- Reply addresses handed out (reply+<handle>@domain): the handle is a MAC of the message
-- id, short and lower-case so it survives the 64-octet local part and case-folding.
CREATE TABLE reply_handles (
  handle        text PRIMARY KEY,
  workspace_id  text NOT NULL,
  profile_id    uuid NOT NULL,
  message_id    text NOT NULL,
  created_at    timestamptz NOT NULL
);

-- Replies received by the inbound SMTP listener or a provider's inbound-parse webhook,
-- threaded to the member and the message they answer.
CREATE TABLE message_replies (
  workspace_id  text NOT NULL,
  profile_id    uuid NOT NULL,
  -- sha256 of the reply's Message-ID (or of its content): a redelivery is stored once.
  reply_id      text NOT NULL,
  message_id    text NOT NULL,
  source        text NOT NULL CHECK (source IN ('smtp', 'webhook')),
  from_address  text,
  subject       text,
  text          text NOT NULL,
  -- The text without the quoted original.
  stripped_text text NOT NULL,
  html          text,
  received_at   timestamptz NOT NULL,
  PRIMARY KEY (workspace_id, profile_id, reply_id)
);
CREATE INDEX message_replies_recent ON message_replies (workspace_id, received_at DESC);
CREATE INDEX message_replies_message ON message_replies (workspace_id, message_id);
