-- Ingest: the agents' public keys the warehouse trusts, the load history, and the rows a
-- load quarantined. Accepted rows live in one table per dataset (ds_<id>), created by
-- src/ingest/dataset-table.ts from the dataset's specification.

-- Ed25519 public keys (SPKI PEM) of each organisation's de-identification agent.
CREATE TABLE trusted_keys (
  org_code TEXT NOT NULL,
  key_id TEXT NOT NULL,
  public_key_pem TEXT NOT NULL,
  trusted_at TEXT NOT NULL,
  trusted_by TEXT NOT NULL,
  PRIMARY KEY (org_code, key_id)
);

-- One row per load attempt. status: running → loaded (→ superseded) | refused | failed.
-- A load that dies leaves its `running` row, which the next load or listing marks failed.
CREATE TABLE loads (
  load_id TEXT PRIMARY KEY,
  org_code TEXT NOT NULL,
  dataset_id TEXT NOT NULL,
  period TEXT,
  file_name TEXT NOT NULL,
  sha256 TEXT,
  status TEXT NOT NULL,
  started_at TEXT NOT NULL,
  finished_at TEXT,
  actor TEXT NOT NULL,
  host TEXT NOT NULL,
  pid INTEGER NOT NULL,
  rows_read BIGINT,
  rows_loaded BIGINT,
  rows_quarantined BIGINT,
  rows_dropped BIGINT,
  seconds DOUBLE PRECISION,
  superseded_by TEXT,
  spec_version TEXT,
  key_id TEXT,
  signing_key_id TEXT,
  -- JSON: findings and completeness (counts and line numbers only)
  report TEXT,
  -- the one-line reason a load was refused or failed
  error TEXT
);

CREATE INDEX loads_by_feed ON loads (org_code, dataset_id, period);

-- Quarantined rows as the warehouse would hold them (tokens, never identifiers), with the
-- line of the sender's extract and the first rule each failed.
CREATE TABLE load_quarantine (
  load_id TEXT NOT NULL,
  source_line BIGINT NOT NULL,
  rule TEXT NOT NULL,
  field TEXT,
  row_json TEXT NOT NULL
);

CREATE INDEX load_quarantine_by_load ON load_quarantine (load_id);
