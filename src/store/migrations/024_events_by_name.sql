-- A member's events of one name, newest first: the history that `performed` conditions and
-- the funnel's criteria read. Through the timeline index, such a read went over every event
-- of the member to keep those of a few names, and grew with the member's history.
CREATE INDEX events_profile_name ON events (workspace_id, profile_id, name, timestamp DESC)
  WHERE profile_id IS NOT NULL;
