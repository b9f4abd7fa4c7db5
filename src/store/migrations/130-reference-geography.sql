-- Reference geography with versions (src/reference/, docs/geography.md): each public file
-- (ONS lookups, MHCLG IMD, NHS England ePCN) is loaded whole as one release of its kind by
-- `kernel reference load`; every row carries the release's version, and
-- ref_geography_current names the release of each kind that readers use.
CREATE TABLE ref_geography_version (
  kind TEXT NOT NULL,
  version TEXT NOT NULL,
  source TEXT NOT NULL,
  url TEXT,
  file_name TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  row_count BIGINT NOT NULL,
  loaded_at TEXT NOT NULL,
  loaded_by TEXT NOT NULL,
  PRIMARY KEY (kind, version)
);
CREATE TABLE ref_geography_current (
  kind TEXT PRIMARY KEY,
  version TEXT NOT NULL
);
-- ONS CHGIND: U unchanged, S split (one 2011 LSOA, several 2021), M merged, X irregular.
CREATE TABLE ref_lsoa_2011_2021 (
  version TEXT NOT NULL,
  lsoa11_code TEXT NOT NULL,
  lsoa11_name TEXT NOT NULL,
  lsoa21_code TEXT NOT NULL,
  lsoa21_name TEXT NOT NULL,
  change_indicator TEXT NOT NULL,
  lad_code TEXT NOT NULL,
  PRIMARY KEY (version, lsoa11_code, lsoa21_code)
);
-- IMD by LSOA; lsoa_vintage says which LSOAs the index is built on (IMD 2019: 2011).
CREATE TABLE ref_imd (
  version TEXT NOT NULL,
  lsoa_vintage TEXT NOT NULL,
  lsoa_code TEXT NOT NULL,
  imd_rank INTEGER NOT NULL,
  imd_decile INTEGER NOT NULL,
  PRIMARY KEY (version, lsoa_code)
);
-- 2021 LSOA → electoral ward → local authority district (a best fit: one ward per LSOA).
CREATE TABLE ref_ward (
  version TEXT NOT NULL,
  lsoa21_code TEXT NOT NULL,
  ward_code TEXT NOT NULL,
  ward_name TEXT NOT NULL,
  lad_code TEXT NOT NULL,
  lad_name TEXT NOT NULL,
  PRIMARY KEY (version, lsoa21_code)
);
-- Practice → PCN relationships with their dates (valid_to NULL while it lasts).
CREATE TABLE ref_practice_pcn (
  version TEXT NOT NULL,
  practice_code TEXT NOT NULL,
  pcn_code TEXT NOT NULL,
  pcn_name TEXT NOT NULL,
  valid_from DATE NOT NULL,
  valid_to DATE
);
-- The current release of each kind: what every reader uses.
CREATE VIEW ref_lsoa_2011_2021_current AS
  SELECT t.* FROM ref_lsoa_2011_2021 t
  JOIN ref_geography_current c ON c.kind = 'lsoa-2011-2021' AND c.version = t.version;
-- LSOAs of each census vintage ('2011', '2021'), as the current 2011 → 2021 lookup lists them.
CREATE VIEW ref_lsoa AS
  SELECT DISTINCT version, '2011' AS vintage, lsoa11_code AS lsoa_code, lsoa11_name AS lsoa_name, lad_code
  FROM ref_lsoa_2011_2021_current
  UNION ALL
  SELECT DISTINCT version, '2021' AS vintage, lsoa21_code AS lsoa_code, lsoa21_name AS lsoa_name, lad_code
  FROM ref_lsoa_2011_2021_current;
CREATE VIEW ref_imd_current AS
  SELECT t.* FROM ref_imd t JOIN ref_geography_current c ON c.kind = 'imd' AND c.version = t.version;
CREATE VIEW ref_ward_current AS
  SELECT t.* FROM ref_ward t JOIN ref_geography_current c ON c.kind = 'ward-lad' AND c.version = t.version;
CREATE VIEW ref_practice_pcn_current AS
  SELECT t.* FROM ref_practice_pcn t
  JOIN ref_geography_current c ON c.kind = 'practice-pcn' AND c.version = t.version;
