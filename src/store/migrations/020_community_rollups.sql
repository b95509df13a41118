-- Rollups for the community reports (docs/community.md#reports), kept up to date by the
-- processor in the transaction of the event that changes them, so every report reads a
-- few thousand small rows instead of the stage history or the event counters. Each one
-- is exactly an aggregate of rows kept elsewhere (said below), and is backfilled here.

-- The bucket of a stay's length for the median time in stage: 4 buckets per doubling
-- (1 ms .. 2^63 ms -> 0 .. 174). Used by the rollup and by the index of stays, so both
-- always agree on where a stay falls.
CREATE FUNCTION community_stay_bucket(ms bigint) RETURNS smallint
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT floor(ln(ms::double precision) / ln(2::double precision) * 4)::smallint $$;

-- Stage transitions per UTC day: exactly profile_stage_history grouped by day, stage,
-- previous stage ('' for a first entry), direction and stay bucket (up moves after a real
-- stay, time_in_previous_ms > 0; -1 otherwise). Conversion and the distribution at past
-- dates sum whole days here and read the history only for the part days at their edges.
CREATE TABLE stage_transitions_daily (
  workspace_id    text NOT NULL,
  day             date NOT NULL,
  stage           text NOT NULL,
  previous_stage  text NOT NULL,
  direction       text NOT NULL CHECK (direction IN ('up', 'down')),
  stay_bucket     smallint NOT NULL,
  transitions     bigint NOT NULL CHECK (transitions >= 0),
  PRIMARY KEY (workspace_id, day, stage, previous_stage, direction, stay_bucket)
);

-- The real stays before moving up, by stage left and bucket: the exact median reads the
-- counts per bucket from the rollup, then only the stays of the bucket that holds it.
CREATE INDEX profile_stage_history_stays ON profile_stage_history
  (workspace_id, previous_stage, (community_stay_bucket(time_in_previous_ms)), entered_at)
  INCLUDE (time_in_previous_ms)
  WHERE direction = 'up' AND time_in_previous_ms > 0;

-- A member's current stage that left the funnel without a transition: the member was merged
-- into another profile (whose stage was kept), or the stage left the configuration. The
-- distribution at a past date adds them back. No profile id: it is a count, not a record.
CREATE TABLE stage_departures (
  workspace_id  text NOT NULL,
  stage         text NOT NULL,
  left_at       timestamptz NOT NULL
);
CREATE INDEX stage_departures_time ON stage_departures (workspace_id, left_at);

-- Each member's first up-entry into each stage: the join date of the weekly cohorts.
CREATE TABLE profile_stage_firsts (
  workspace_id  text NOT NULL,
  profile_id    uuid NOT NULL,
  stage         text NOT NULL,
  entered_at    timestamptz NOT NULL,
  PRIMARY KEY (workspace_id, profile_id, stage)
);
CREATE INDEX profile_stage_firsts_cohort ON profile_stage_firsts (workspace_id, stage, entered_at)
  INCLUDE (profile_id);

-- Weekly cohorts (weeks start Monday 00:00 UTC): members per stage and week of first entry,
-- and how many of them were active (profile_activity_weeks) k weeks later. Exactly
-- profile_stage_firsts grouped by week, and that joined to profile_activity_weeks.
CREATE TABLE stage_cohorts (
  workspace_id  text NOT NULL,
  stage         text NOT NULL,
  cohort        date NOT NULL,
  members       bigint NOT NULL CHECK (members >= 0),
  PRIMARY KEY (workspace_id, stage, cohort)
);
CREATE TABLE stage_cohort_activity (
  workspace_id  text NOT NULL,
  stage         text NOT NULL,
  cohort        date NOT NULL,
  week_offset   integer NOT NULL CHECK (week_offset >= 0),
  members       bigint NOT NULL CHECK (members >= 0),
  PRIMARY KEY (workspace_id, stage, cohort, week_offset)
);

-- Content created per member (Topic Created + Post Created + Content Published): the sum of
-- those event counters, ordered by an index for the top contributors by content.
CREATE TABLE profile_content_counts (
  workspace_id  text NOT NULL,
  profile_id    uuid NOT NULL,
  created       bigint NOT NULL CHECK (created >= 0),
  PRIMARY KEY (workspace_id, profile_id)
);
CREATE INDEX profile_content_counts_top ON profile_content_counts (workspace_id, created DESC, profile_id);

-- Backfill from what is already stored.
INSERT INTO stage_transitions_daily (workspace_id, day, stage, previous_stage, direction, stay_bucket, transitions)
SELECT workspace_id, (entered_at AT TIME ZONE 'UTC')::date, stage, coalesce(previous_stage, ''), direction,
  CASE WHEN direction = 'up' AND time_in_previous_ms > 0 THEN community_stay_bucket(time_in_previous_ms) ELSE -1 END,
  count(*)
FROM profile_stage_history GROUP BY 1, 2, 3, 4, 5, 6;

INSERT INTO profile_stage_firsts (workspace_id, profile_id, stage, entered_at)
SELECT DISTINCT ON (workspace_id, profile_id, stage) workspace_id, profile_id, stage, entered_at
FROM profile_stage_history WHERE direction = 'up'
ORDER BY workspace_id, profile_id, stage, seq;

INSERT INTO stage_cohorts (workspace_id, stage, cohort, members)
SELECT workspace_id, stage, (date_trunc('week', entered_at AT TIME ZONE 'UTC'))::date, count(*)
FROM profile_stage_firsts GROUP BY 1, 2, 3;

INSERT INTO stage_cohort_activity (workspace_id, stage, cohort, week_offset, members)
SELECT f.workspace_id, f.stage, c.cohort, (a.week - c.cohort) / 7, count(*)
FROM profile_stage_firsts f
CROSS JOIN LATERAL (SELECT (date_trunc('week', f.entered_at AT TIME ZONE 'UTC'))::date AS cohort) c
JOIN profile_activity_weeks a ON a.workspace_id = f.workspace_id AND a.profile_id = f.profile_id AND a.week >= c.cohort
GROUP BY 1, 2, 3, 4;

INSERT INTO profile_content_counts (workspace_id, profile_id, created)
SELECT workspace_id, profile_id, sum(count) FROM profile_event_counters
WHERE event IN ('Topic Created', 'Post Created', 'Content Published')
GROUP BY 1, 2;
