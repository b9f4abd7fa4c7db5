-- The people whose person-level model a build computed again (src/kid/person-model.ts,
-- docs/kid.md "Building it"): when the model's date has not moved since the version before,
-- an incremental build copies everyone else's model row and computes only these people's —
-- those it rebuilt on the spine, and those with rows in a load it reads for the first time or
-- in one superseded since. Empty when the whole model was computed.
CREATE TABLE kid_model_scope (
  version INTEGER NOT NULL,
  person_token TEXT NOT NULL
);
