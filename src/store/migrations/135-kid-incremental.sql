-- Incremental builds of the Kent Integrated Dataset (src/kid/incremental-build.ts,
-- docs/kid.md "Building it"): a build rebuilds only the people whose inputs changed since the
-- version before, and copies everyone else's rows.
--
-- The loads each build read (the loads 'loaded' when it began): the next build's new loads
-- are those not among them.
CREATE TABLE kid_build_loads (
  version INTEGER NOT NULL,
  load_id TEXT NOT NULL
);
-- The people a build rebuilt (an incremental build's scope; empty for a full one).
CREATE TABLE kid_build_scope (
  version INTEGER NOT NULL,
  person_token TEXT NOT NULL
);
-- Each person's disagreements between sources (docs/kid.md "Which source wins"), so an
-- incremental build counts them without reading every person's records again:
-- kid_disagreements is their sum per field.
CREATE TABLE kid_person_disagreement (
  version INTEGER NOT NULL,
  person_token TEXT NOT NULL,
  field TEXT NOT NULL,
  n INTEGER NOT NULL
);
-- The people of the rows a load removed when it superseded an earlier load of the same month
-- (src/ingest/superseded-people.ts), recorded in the same transaction: the rows are gone
-- after it, and a person whose records went must be rebuilt. Tokens only.
CREATE TABLE load_superseded_people (
  load_id TEXT NOT NULL,
  superseded_by TEXT NOT NULL,
  dataset_id TEXT NOT NULL,
  person_token TEXT NOT NULL
);
