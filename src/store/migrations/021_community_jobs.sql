-- A configuration change applied to every member in the background: one job per change
-- (a new funnel re-evaluates members, a new score table re-ranks scores and moves decay
-- timers, new badge rules are backfilled; `merges` brings the community state of profiles
-- merged before it followed merges into their survivors). The workers' scheduler works through it a page
-- of profiles at a time; the cursor moves in the transaction of the page's work, so a job
-- resumes where it stopped after a crash and no page is done twice.
--
-- status: running -> done          (the last page was done)
--         running -> superseded    (a newer change of the same kind covers every member again,
--                                   or every rule it backfilled was removed)
CREATE TABLE community_jobs (
  workspace_id    text NOT NULL,
  job_id          bigint GENERATED ALWAYS AS IDENTITY,
  kind            text NOT NULL CHECK (kind IN ('stages', 'score', 'badges', 'merges')),
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

-- Profiles merged into another before the community state followed merges kept their own
-- stage, score, badges and history, and were counted apart in the reports. One job per
-- workspace moves them into the profiles that absorbed them, as a merge now does.
INSERT INTO community_jobs (workspace_id, kind, status, members_total, created_by, created_at, updated_at)
SELECT p.workspace_id, 'merges', 'running', count(*), 'migration 021', now(), now()
FROM profiles p
WHERE p.merged_into IS NOT NULL AND (
  EXISTS (SELECT 1 FROM profile_stages s WHERE s.workspace_id = p.workspace_id AND s.profile_id = p.profile_id)
  OR EXISTS (SELECT 1 FROM profile_stage_history h WHERE h.workspace_id = p.workspace_id AND h.profile_id = p.profile_id)
  OR EXISTS (SELECT 1 FROM profile_scores s WHERE s.workspace_id = p.workspace_id AND s.profile_id = p.profile_id)
  OR EXISTS (SELECT 1 FROM profile_badges b WHERE b.workspace_id = p.workspace_id AND b.profile_id = p.profile_id)
  OR EXISTS (SELECT 1 FROM profile_activity_weeks a WHERE a.workspace_id = p.workspace_id AND a.profile_id = p.profile_id))
GROUP BY p.workspace_id;
INSERT INTO timers (workspace_id, profile_id, timer_id, kind, fire_at, payload)
SELECT workspace_id, '00000000-0000-0000-0000-000000000000', 'community:job:' || job_id, 'community.job', now(),
  jsonb_build_object('job', job_id)
FROM community_jobs WHERE kind = 'merges';
