-- The area summary packed for reading (src/kid/area-summary.ts, docs/kid.md, "Population
-- health dashboard"): kid_area_summary's rows of each version, day, area, variant (with its
-- opt-out list's tag) and panel in one row, `rows` a JSON array of them as the dashboard reads
-- them. Written from kid_area_summary by the same build step. A dashboard request needs one
-- area's rows, and DuckDB finds them in kid_area_summary only by scanning every area's rows of
-- the version (its ART indexes serve no multi-column filter). Here they are found by area_key
-- (version, day, area or 'built', variant, tag: src/kid/area-summary.ts, AREA_KEY_SQL), one
-- column with its own index: DuckDB reads by an index only for an equality on one column.
CREATE TABLE kid_area_panels (
  area_key TEXT NOT NULL,
  version INTEGER NOT NULL,
  as_of DATE NOT NULL,
  scope_kind TEXT NOT NULL,
  scope_code TEXT NOT NULL,
  variant TEXT NOT NULL,
  optout_tag TEXT,
  panel TEXT NOT NULL,
  rows TEXT NOT NULL
);
CREATE INDEX kid_area_panels_key ON kid_area_panels (area_key);
