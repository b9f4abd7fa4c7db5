-- Outputs leaving the analyst workspace (issue 15; docs/workspace.md). A request holds the
-- file the workspace made from a query (aggregate outputs already disclosure-controlled,
-- record-level ones with use-case pseudonyms), and is released only when two independent
-- output checkers approve it. The file itself is kept under <data>/outputs/, named by the
-- request id; its SHA-256 is here, so what was checked is what is downloaded.
CREATE TABLE output_requests (
  request_id TEXT PRIMARY KEY,
  use_case_id TEXT NOT NULL,
  requested_by TEXT NOT NULL,
  requester_org TEXT,
  title TEXT NOT NULL,
  description TEXT NOT NULL,
  kind TEXT NOT NULL,
  format TEXT NOT NULL,
  state TEXT NOT NULL,
  file_sha256 TEXT NOT NULL,
  file_bytes BIGINT NOT NULL,
  rows_out BIGINT NOT NULL,
  disclosure_note TEXT NOT NULL,
  -- the file's first rows as JSON, for the checkers' page whatever the format
  preview_json TEXT NOT NULL,
  created_at TEXT NOT NULL,
  decided_at TEXT,
  downloaded_at TEXT
);

CREATE TABLE output_checks (
  request_id TEXT NOT NULL,
  checker_id TEXT NOT NULL,
  checker_org TEXT,
  decision TEXT NOT NULL,
  comment TEXT NOT NULL,
  checked_at TEXT NOT NULL,
  PRIMARY KEY (request_id, checker_id)
);
