-- A configuration change applied to every member in the background: one job per change
-- (a new funnel re-evaluates members, a new score table re-ranks scores and moves decay
-- timers, new badge rules are backfilled). The workers' scheduler works through it a page
-- of profiles at a time; the cursor moves in the transaction of the page's work, so a job
-- resumes where it stopped after a crash and no page is done twice.
--
-- status: running -> done          (the last page was done)
--         running -> superseded    (a newer change of the same kind covers every member again,
--                                   or every rule it backfilled was removed)
CREATE TABLE community_jobs (
  workspace_id    text NOT NULL,
  job_id          bigint GENERATED ALWAYS AS IDENTITY,
  kind            text NOT NULL CHECK (kind IN ('stages', 'score', 'badges')),
  status          text NOT NULL CHECK (status IN ('running', 'done', 'superseded')),
  -- badges: the ids of the rules to backfill.
  rules           jsonb,
  -- The last profile done, in profile id order; null before the first page.
  after_profile   uuid,
  members_total   bigint NOT NULL,
  members_done    bigint NOT NULL DEFAULT 0,
  -- Members whose evaluation failed (logged; their next event evaluates them again).
  members_failed  bigint NOT NULL DEFAULT 0,
  last_error      text,
  -- badges: the awards found so far.
  awards          bigint NOT NULL DEFAULT 0,
  created_by      text,
  created_at      timestamptz NOT NULL,
  updated_at      timestamptz NOT NULL,
  finished_at     timestamptz,
  PRIMARY KEY (workspace_id, job_id)
);
CREATE INDEX community_jobs_recent ON community_jobs (workspace_id, job_id DESC);
