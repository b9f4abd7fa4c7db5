-- Linkage: the Bloom-filter encodings and keyed blocking keys agents make for records that
-- may lack an NHS number (docs/linkage.md), one row per extract line. Read only by the
-- linkage engine: it is no dataset, so no use case, governed read or page can name it, and a
-- new file for the same organisation, dataset and month replaces the old one's rows.
CREATE TABLE linkage_encodings (
  org_code TEXT NOT NULL,
  dataset TEXT NOT NULL,
  period TEXT NOT NULL,
  source_line BIGINT NOT NULL,
  secret_id TEXT NOT NULL,
  scheme TEXT NOT NULL,
  bf_given_name TEXT,
  bf_family_name TEXT,
  bf_date_of_birth TEXT,
  bf_sex TEXT,
  bf_postcode TEXT,
  block_names_yob TEXT,
  block_dob_sex TEXT,
  block_postcode_given TEXT,
  block_postcode_family TEXT,
  block_names_dob TEXT,
  loaded_at TEXT NOT NULL,
  PRIMARY KEY (org_code, dataset, period, source_line)
);
