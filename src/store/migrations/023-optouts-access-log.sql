-- Governance: the national data opt-out, held as person tokens only (never NHS numbers),
-- replaced wholesale by each load because NHS England's answer is a snapshot that must be
-- re-checked, not a status kept against a record (reference §9).
CREATE TABLE optouts (
  token TEXT NOT NULL,
  batch_id TEXT NOT NULL
);

CREATE TABLE optout_batches (
  batch_id TEXT PRIMARY KEY,
  loaded_at TEXT NOT NULL,
  loaded_by TEXT NOT NULL,
  token_count INTEGER NOT NULL,
  source_name TEXT NOT NULL
);

-- One row per controller per governed read, written in the same transaction as the
-- read's audit event, so each controller can see who read its data, when and why.
CREATE TABLE data_access_log (
  access_id TEXT NOT NULL,
  accessed_at TEXT NOT NULL,
  user_id TEXT NOT NULL,
  user_role TEXT NOT NULL,
  use_case_id TEXT NOT NULL,
  dataset_id TEXT NOT NULL,
  org_code TEXT NOT NULL,
  opt_out_applied BOOLEAN NOT NULL
);
