-- Linkage: people linked probabilistically (docs/linkage.md). Each `kernel link` run is a
-- version: its row in link_runs and its links in person_links, so a link can be traced to
-- the run (and model) that made it and a rerun compared with the last. A link gives a
-- record without an NHS number the person_token of the master-index record it matched.
CREATE TABLE link_runs (
  run_id TEXT PRIMARY KEY,
  dataset TEXT NOT NULL,
  against TEXT NOT NULL,
  started_at TEXT NOT NULL,
  actor TEXT NOT NULL,
  threshold DOUBLE PRECISION NOT NULL,
  records BIGINT NOT NULL,
  candidate_pairs BIGINT NOT NULL,
  linked BIGINT NOT NULL,
  estimated_precision DOUBLE PRECISION,
  estimated_recall DOUBLE PRECISION,
  match_prior DOUBLE PRECISION NOT NULL
);

CREATE TABLE person_links (
  run_id TEXT NOT NULL,
  dataset TEXT NOT NULL,
  load_id TEXT NOT NULL,
  source_line BIGINT NOT NULL,
  person_token TEXT NOT NULL,
  match_probability DOUBLE PRECISION NOT NULL,
  match_weight DOUBLE PRECISION NOT NULL,
  PRIMARY KEY (run_id, load_id, source_line)
);
