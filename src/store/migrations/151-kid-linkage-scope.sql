-- The people whose rows an incremental build's linkage report counts again
-- (src/kid/linkage-report.ts, docs/kid.md "Building it"): of the people it rebuilt, those whose
-- spine rows as the report reads them changed (on the spine or not, date of death,
-- registration periods). Everyone else's rows count the same against both versions.
CREATE TABLE kid_linkage_scope (
  version INTEGER NOT NULL,
  person_token TEXT NOT NULL
);
