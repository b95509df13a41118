-- The trace is read per person, through its primary key; nothing reads it by journey and
-- time, and every entry written paid for this index.
DROP INDEX journey_trace_by_journey;
