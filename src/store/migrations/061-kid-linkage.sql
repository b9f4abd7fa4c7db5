-- The linkage report of each KID build: per dataset × provider × month, how many rows reach
-- the person spine and why the others do not (src/kid/linkage-report.ts, docs/kid.md).
CREATE TABLE kid_linkage (
  version INTEGER NOT NULL,
  dataset_id TEXT NOT NULL,
  org_code TEXT NOT NULL,
  month TEXT NOT NULL,
  rows_total BIGINT NOT NULL,
  rows_with_token BIGINT NOT NULL,
  rows_on_spine BIGINT NOT NULL,
  rows_matched BIGINT NOT NULL,
  no_token BIGINT NOT NULL,
  not_on_spine BIGINT NOT NULL,
  not_registered BIGINT NOT NULL
);
CREATE VIEW kid_linkage_current AS
  SELECT l.* FROM kid_linkage l JOIN kid_current c ON c.id = 1 AND l.version = c.version;
