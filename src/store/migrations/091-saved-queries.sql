-- The analyst workspace's saved queries and each user's query history (issue 15;
-- docs/workspace.md). Saved queries belong to a use case, so everyone working on it can
-- reuse them; the history is the user's own. The SQL text is kept as the audit keeps it:
-- identifier shapes masked (src/workspace/query-audit.ts).
CREATE TABLE saved_queries (
  query_id TEXT PRIMARY KEY,
  use_case_id TEXT NOT NULL,
  name TEXT NOT NULL,
  sql_text TEXT NOT NULL,
  saved_by TEXT NOT NULL,
  saved_at TEXT NOT NULL,
  UNIQUE (use_case_id, name)
);

CREATE TABLE query_history (
  user_id TEXT NOT NULL,
  use_case_id TEXT NOT NULL,
  sql_text TEXT NOT NULL,
  rows_returned BIGINT,
  ms BIGINT NOT NULL,
  outcome TEXT NOT NULL,
  ran_at TEXT NOT NULL
);
