-- Every derived area field records the geography it was derived with (docs/geography.md):
-- a load the vintage of LSOA and the IMD its agent's postcode lookup gave (from the signed
-- manifest), and the KID's residence history the same, carried from the load of each row.
ALTER TABLE loads ADD COLUMN lsoa_vintage TEXT;
ALTER TABLE loads ADD COLUMN imd_version TEXT;
ALTER TABLE kid_residence ADD COLUMN lsoa_vintage TEXT;
ALTER TABLE kid_residence ADD COLUMN imd_version TEXT;
-- PostgreSQL fixes a view's `*` when the view is made; remake it so it shows the new columns.
CREATE OR REPLACE VIEW kid_spine_residence AS
  SELECT r.* FROM kid_residence r JOIN kid_current c ON c.id = 1 AND r.version = c.version;
