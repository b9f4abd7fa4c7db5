-- The eFI and the risk scores keep a row by a range of versions, as the person-level model
-- does (migration 152; src/store/version-range.ts): from `version`, the build that computed
-- it, until `retired`, the build that computed its person again (null while current). A build
-- that keeps the model's date scores the people whose inputs changed and leaves everyone
-- else's rows where they are, where it copied them into each version (about 3.5 s of a late
-- feed's build at 1.9 million people). The rows already here are the current version's.
ALTER TABLE kid_frailty ADD COLUMN retired INTEGER;
ALTER TABLE kid_frailty_deficit ADD COLUMN retired INTEGER;
ALTER TABLE kid_risk ADD COLUMN retired INTEGER;
-- The current version's rows, as before: the same columns, `version` the version read.
CREATE OR REPLACE VIEW kid_spine_frailty AS
  SELECT c.version, f.person_token, f.deficits, f.efi, f.category, f.as_of
  FROM kid_frailty f JOIN kid_current c ON c.id = 1
    AND f.version <= c.version AND (f.retired IS NULL OR f.retired > c.version);
CREATE OR REPLACE VIEW kid_spine_frailty_deficit AS
  SELECT c.version, d.person_token, d.deficit
  FROM kid_frailty_deficit d JOIN kid_current c ON c.id = 1
    AND d.version <= c.version AND (d.retired IS NULL OR d.retired > c.version);
CREATE OR REPLACE VIEW kid_person_risk AS
  SELECT c.version, r.person_token, r.probability
  FROM kid_risk r JOIN kid_current c ON c.id = 1
    AND r.version <= c.version AND (r.retired IS NULL OR r.retired > c.version);
