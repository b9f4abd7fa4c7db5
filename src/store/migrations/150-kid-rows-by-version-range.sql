-- The person-scoped tables of the Kent Integrated Dataset keep a row by a range of versions
-- (src/kid/incremental-build.ts, VERSION_RANGED_TABLES; docs/kid.md "Building it"): a row
-- belongs to every build from `version`, the one that wrote it, until `retired`, the one that
-- rebuilt its person (null while it is current). An incremental build writes the rows of the
-- people it rebuilds and nobody else's, where it copied everyone else's into each version.
-- The rows already here are the current version's, so null is right for all of them.
ALTER TABLE kid_person ADD COLUMN retired INTEGER;
ALTER TABLE kid_person_disagreement ADD COLUMN retired INTEGER;
ALTER TABLE kid_registration ADD COLUMN retired INTEGER;
ALTER TABLE kid_residence ADD COLUMN retired INTEGER;
ALTER TABLE kid_condition ADD COLUMN retired INTEGER;
-- The current version's rows, as before: the same columns, `version` the version read.
CREATE OR REPLACE VIEW kid_spine_person AS
  SELECT c.version, p.person_token, p.sex, p.birth_year_month, p.death_date, p.ethnic_category,
         p.first_seen, p.gp_registered, p.sources
  FROM kid_person p JOIN kid_current c ON c.id = 1
    AND p.version <= c.version AND (p.retired IS NULL OR p.retired > c.version);
CREATE OR REPLACE VIEW kid_spine_registration AS
  SELECT c.version, r.person_token, r.practice_code, r.from_date, r.to_date
  FROM kid_registration r JOIN kid_current c ON c.id = 1
    AND r.version <= c.version AND (r.retired IS NULL OR r.retired > c.version);
CREATE OR REPLACE VIEW kid_spine_residence AS
  SELECT c.version, r.person_token, r.lsoa_code, r.imd_decile, r.uprn_token, r.from_date, r.to_date,
         r.lsoa_vintage, r.imd_version
  FROM kid_residence r JOIN kid_current c ON c.id = 1
    AND r.version <= c.version AND (r.retired IS NULL OR r.retired > c.version);
CREATE OR REPLACE VIEW kid_condition_current AS
  SELECT c.version, k.person_token, k.condition, k.first_date
  FROM kid_condition k JOIN kid_current c ON c.id = 1
    AND k.version <= c.version AND (k.retired IS NULL OR k.retired > c.version);
