-- Each load's profile (issue 16; docs/data-quality.md): rows, completeness per field, ranges,
-- the most frequent codes, and the counts the check catalogue's plausibility and uniqueness
-- checks read, written in the load's own transaction (src/quality/load-profile.ts), so any
-- month can be compared with the month before and the same month last year without reading
-- warehouse rows again.
CREATE TABLE load_profiles (
  load_id TEXT PRIMARY KEY,
  profile TEXT NOT NULL
);
