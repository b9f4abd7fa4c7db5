-- Linkage into the person spine, with clerical review (docs/linkage.md, issue 14).
-- A run records the spine version it linked into, what started it (a person or a load), and
-- its trained model (m and u per level and the prior: parameters, no record's values), so a
-- pair's waterfall can be explained later without training again.
ALTER TABLE link_runs ADD COLUMN spine_version INTEGER;
ALTER TABLE link_runs ADD COLUMN started_by_load TEXT;
ALTER TABLE link_runs ADD COLUMN model TEXT;
ALTER TABLE link_runs ADD COLUMN review_low DOUBLE PRECISION;
ALTER TABLE link_runs ADD COLUMN review_high DOUBLE PRECISION;
ALTER TABLE link_runs ADD COLUMN decisions_applied BIGINT;

-- Encodings belong to the load whose extract lines they encode; they go with it.
ALTER TABLE linkage_encodings ADD COLUMN load_id TEXT;

-- The clerical review queue of each run: candidate pairs in the uncertain band, each a record
-- of the dataset (load, line) against a master-index record (the pmi load and line whose
-- person is on the spine). Read only by the linkage engine and the review commands.
CREATE TABLE link_review (
  run_id TEXT NOT NULL,
  pair_id TEXT NOT NULL,
  dataset TEXT NOT NULL,
  org_code TEXT NOT NULL,
  load_id TEXT NOT NULL,
  source_line BIGINT NOT NULL,
  index_load_id TEXT NOT NULL,
  index_source_line BIGINT NOT NULL,
  person_token TEXT NOT NULL,
  match_probability DOUBLE PRECISION NOT NULL,
  match_weight DOUBLE PRECISION NOT NULL,
  linked BOOLEAN NOT NULL,
  PRIMARY KEY (run_id, pair_id)
);

-- People's decisions on pairs: a record (load, line) is, or is not, a person of the spine.
-- Kept across runs and used by every later run while the record's load is current. The
-- latest decision on a pair wins; earlier ones stay, for the record.
CREATE TABLE link_decisions (
  decision_id TEXT PRIMARY KEY,
  pair_id TEXT NOT NULL,
  dataset TEXT NOT NULL,
  org_code TEXT NOT NULL,
  load_id TEXT NOT NULL,
  source_line BIGINT NOT NULL,
  person_token TEXT NOT NULL,
  is_match BOOLEAN NOT NULL,
  model_probability DOUBLE PRECISION,
  run_id TEXT,
  decided_at TEXT NOT NULL,
  actor TEXT NOT NULL
);

-- Each run's estimates of its own precision and recall per organisation: from the model
-- (the links' mean probability; their probability mass over that of every record's best
-- candidate) and from the clerical decisions on the pairs people reviewed.
CREATE TABLE link_run_estimates (
  run_id TEXT NOT NULL,
  dataset TEXT NOT NULL,
  org_code TEXT NOT NULL,
  records BIGINT NOT NULL,
  linked BIGINT NOT NULL,
  model_precision DOUBLE PRECISION,
  model_recall DOUBLE PRECISION,
  reviewed_pairs BIGINT NOT NULL,
  decided_matches BIGINT NOT NULL,
  clerical_precision DOUBLE PRECISION,
  clerical_recall DOUBLE PRECISION,
  PRIMARY KEY (run_id, org_code)
);
