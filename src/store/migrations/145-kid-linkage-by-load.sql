-- The linkage report counted per load (src/kid/linkage-report.ts, docs/kid.md "Building it"):
-- the rows with a person token of each load, per provider and month of activity, and how
-- many reach the spine. Kept with each build version so the next build adds a new load's
-- counts, drops a superseded load's, and counts again only the rows of the people it
-- rebuilt, instead of recounting every row of every dataset; kid_linkage is their sum, with
-- the rows without a token (counted afresh: the latest `kernel link` run decides them).
CREATE TABLE kid_linkage_load (
  version INTEGER NOT NULL,
  load_id TEXT NOT NULL,
  dataset_id TEXT NOT NULL,
  org_code TEXT NOT NULL,
  month TEXT NOT NULL,
  rows_with_token BIGINT NOT NULL,
  rows_on_spine BIGINT NOT NULL,
  rows_matched BIGINT NOT NULL,
  not_on_spine BIGINT NOT NULL,
  not_registered BIGINT NOT NULL
);
