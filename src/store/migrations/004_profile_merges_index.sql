-- Reads and erasure find the profiles merged into a given one (merged_into = X).
-- Few profiles are ever merged away, so a partial index stays small.
CREATE INDEX profiles_merged_into ON profiles (workspace_id, merged_into) WHERE merged_into IS NOT NULL;
