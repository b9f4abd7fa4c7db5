-- The person-level model keeps a row by a range of versions, as the spine's tables do
-- (migration 150; src/store/version-range.ts): from `version`, the build that computed it,
-- until `retired`, the build that computed its person again (null while current). A build
-- that keeps the model's date computes the people whose inputs changed and leaves everyone
-- else's row where it is, where it copied 1.9 million rows into each version. The rows
-- already here are the current version's, so null is right for all of them.
ALTER TABLE kid_model ADD COLUMN retired INTEGER;
-- The current version's rows, as before: the same columns, `version` the version read.
CREATE OR REPLACE VIEW kid_person_model AS
  SELECT c.version, m.person_token, m.as_of, m.sex, m.age, m.age_band, m.imd_decile, m.imd_quintile,
         m.lsoa_code, m.practice_code, m.pcn_code, m.conditions, m.multimorbidity,
         m.complex_multimorbidity, m.efi_category, m.segment, m.ae_attendances,
         m.emergency_admissions, m.elective_admissions, m.bed_days, m.op_attendances, m.op_dnas,
         m.community_contacts, m.mh_contacts, m.fire_visits, m.asc_weeks, m.cost_ae,
         m.cost_emergency, m.cost_elective, m.cost_op, m.cost_community, m.cost_mh, m.cost_asc,
         m.cost_total, m.death_date
  FROM kid_model m JOIN kid_current c ON c.id = 1
    AND m.version <= c.version AND (m.retired IS NULL OR m.retired > c.version);
