-- Saved cohorts of the cohort builder (issue 15, "Cohorts without SQL"; docs/cohorts.md).
-- A cohort is its definition, never its members: the criteria as JSON, under the use case it
-- was saved for, with who saved it and when. Membership is computed on use, through the
-- access policy, on the day asked for, so a saved cohort holds no person token.
CREATE TABLE cohorts (
  cohort_id TEXT PRIMARY KEY,
  use_case_id TEXT NOT NULL,
  name TEXT NOT NULL,
  definition_json TEXT NOT NULL,
  saved_by TEXT NOT NULL,
  saved_at TEXT NOT NULL,
  UNIQUE (use_case_id, name)
);
