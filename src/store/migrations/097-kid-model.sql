-- The person-level model of the Kent Integrated Dataset (src/kid/person-model.ts, docs/kid.md,
-- "The person-level model"): one row per person in the population on the model's date
-- (as_of), and per person who died in the 12 months to it while in the population (their
-- death_date set: the "short period of decline before dying" segment), with activity and
-- cost over those 12 months. Community (CSDS) and mental health (MHSDS) contacts stay null
-- until those datasets arrive; a count is null where its dataset has never been loaded.
CREATE TABLE kid_model (
  version INTEGER NOT NULL,
  person_token TEXT NOT NULL,
  as_of DATE NOT NULL,
  sex TEXT,
  age INTEGER,
  age_band TEXT,
  imd_decile INTEGER,
  imd_quintile INTEGER,
  lsoa_code TEXT,
  practice_code TEXT,
  pcn_code TEXT,
  conditions INTEGER NOT NULL,
  multimorbidity BOOLEAN NOT NULL,
  complex_multimorbidity BOOLEAN NOT NULL,
  efi_category TEXT,
  segment TEXT NOT NULL,
  ae_attendances INTEGER,
  emergency_admissions INTEGER,
  elective_admissions INTEGER,
  bed_days INTEGER,
  op_attendances INTEGER,
  op_dnas INTEGER,
  community_contacts INTEGER,
  mh_contacts INTEGER,
  fire_visits INTEGER,
  asc_weeks DOUBLE PRECISION,
  cost_ae DOUBLE PRECISION,
  cost_emergency DOUBLE PRECISION,
  cost_elective DOUBLE PRECISION,
  cost_op DOUBLE PRECISION,
  cost_community DOUBLE PRECISION,
  cost_mh DOUBLE PRECISION,
  cost_asc DOUBLE PRECISION,
  cost_total DOUBLE PRECISION NOT NULL,
  death_date DATE
);
-- The unit costs each build used (src/kid/reference/unit-costs.json), with their source and year.
CREATE TABLE kid_unit_cost (
  version INTEGER NOT NULL,
  cost_id TEXT NOT NULL,
  setting TEXT NOT NULL,
  unit TEXT NOT NULL,
  cost DOUBLE PRECISION NOT NULL,
  cost_year TEXT NOT NULL,
  source TEXT NOT NULL
);
CREATE VIEW kid_person_model AS
  SELECT m.* FROM kid_model m JOIN kid_current c ON c.id = 1 AND m.version = c.version;
