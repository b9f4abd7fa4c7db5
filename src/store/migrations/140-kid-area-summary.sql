-- The population health dashboard's summary of the person-level model (src/kid/area-summary.ts,
-- docs/kid.md, "Population health dashboard"): written with every KID build version, after the
-- model, so a reader never sees half of it. Counts of people (and sums of cost) grouped as the
-- dashboard groups them, per area: the whole system (scope_kind 'ics', scope_code ''), each
-- practice, PCN and LSOA of the model, on the model's date (as_of). Variant 'everyone'
-- counts everyone in the model; variant 'not-opted-out' counts the people of the model not on
-- the national data opt-out list at build time, optout_tag naming that list. The list can
-- change without a build: a planning read uses that variant only while the list is the same,
-- and otherwise takes the people on the list at the time of the read, counted afresh from the
-- model, out of everyone's counts.
-- Each panel's rows are as few as it needs, because a request's time goes mostly into
-- handing rows over: panel 'pyramid' (people alive on as_of by sex_key and five-year band),
-- 'ages' (by the conditions panels' age band and IMD decile: people, conditions summed over
-- them, with 2+ and with 4+), 'condition' (people with each condition), 'model' (by segment,
-- efi_category and alive, with cost per setting), and one 'built' row per version and
-- variant that says that part of the summary was written whole.
CREATE TABLE kid_area_summary (
  version INTEGER NOT NULL,
  as_of DATE NOT NULL,
  scope_kind TEXT NOT NULL,
  scope_code TEXT NOT NULL,
  variant TEXT NOT NULL,
  optout_tag TEXT,
  panel TEXT NOT NULL,
  sex_key TEXT,
  band TEXT,
  decile INTEGER,
  condition TEXT,
  segment TEXT,
  efi_category TEXT,
  alive INTEGER,
  people BIGINT NOT NULL,
  conditions BIGINT,
  multimorbidity BIGINT,
  complex BIGINT,
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
