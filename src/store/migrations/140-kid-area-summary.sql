-- The population health dashboard's summary of the person-level model (src/kid/area-summary.ts,
-- docs/kid.md, "Population health dashboard"): written with every KID build version, after the
-- model, so a reader never sees half of it. Counts of people (and sums of cost) grouped as the
-- dashboard groups them, per area: the whole system (scope_kind 'ics', scope_code ''), each
-- practice, PCN and LSOA of the model, on the model's date (as_of). Variant 'everyone'
-- counts everyone in the model; variant 'opted-out' counts the people of the model on the
-- national data opt-out list at build time, optout_tag naming that list. The list can
-- change without a build: a planning read subtracts them only while the list is the same,
-- and otherwise subtracts the people on the list at the time of the read, counted afresh.
-- panel: 'frame' (alive on as_of: sex_key, age (lowest age of the fine band), decile,
-- conditions), 'condition' (alive people with each condition), 'model' (segment,
-- efi_category, alive, cost per setting), and one 'built' row per version and variant that
-- says that part of the summary was written whole.
CREATE TABLE kid_area_summary (
  version INTEGER NOT NULL,
  as_of DATE NOT NULL,
  scope_kind TEXT NOT NULL,
  scope_code TEXT NOT NULL,
  variant TEXT NOT NULL,
  optout_tag TEXT,
  panel TEXT NOT NULL,
  sex_key TEXT,
  age INTEGER,
  decile INTEGER,
  conditions INTEGER,
  condition TEXT,
  segment TEXT,
  efi_category TEXT,
  alive INTEGER,
  people BIGINT NOT NULL,
  cost_ae DOUBLE PRECISION,
  cost_emergency DOUBLE PRECISION,
  cost_elective DOUBLE PRECISION,
  cost_op DOUBLE PRECISION,
  cost_community DOUBLE PRECISION,
  cost_mh DOUBLE PRECISION,
  cost_asc DOUBLE PRECISION
);
-- A dashboard request reads one area's rows of the current version.
CREATE INDEX kid_area_summary_area ON kid_area_summary (version, scope_kind, scope_code);
CREATE VIEW kid_area_summary_current AS
  SELECT s.* FROM kid_area_summary s JOIN kid_current c ON c.id = 1 AND s.version = c.version;
