-- The Kent Integrated Dataset's person spine (src/kid/, docs/kid.md). Every kid_* table
-- holds rows for one or more build versions; kid_current names the one readers see, and a
-- build swaps it in one transaction, so a reader never sees half a rebuild.
CREATE TABLE kid_builds (
  version INTEGER PRIMARY KEY,
  mode TEXT NOT NULL,
  started_at TEXT NOT NULL,
  finished_at TEXT,
  pmi_rows BIGINT,
  people BIGINT,
  details TEXT
);
CREATE TABLE kid_current (
  id INTEGER PRIMARY KEY,
  version INTEGER NOT NULL
);
CREATE TABLE kid_person (
  version INTEGER NOT NULL,
  person_token TEXT NOT NULL,
  sex TEXT,
  birth_year_month TEXT,
  death_date DATE,
  ethnic_category TEXT,
  first_seen DATE,
  gp_registered BOOLEAN NOT NULL,
  sources INTEGER NOT NULL
);
CREATE TABLE kid_registration (
  version INTEGER NOT NULL,
  person_token TEXT NOT NULL,
  practice_code TEXT NOT NULL,
  from_date DATE NOT NULL,
  to_date DATE
);
CREATE TABLE kid_residence (
  version INTEGER NOT NULL,
  person_token TEXT NOT NULL,
  lsoa_code TEXT,
  imd_decile INTEGER,
  uprn_token TEXT,
  from_date DATE NOT NULL,
  to_date DATE
);
CREATE TABLE kid_disagreements (
  version INTEGER NOT NULL,
  field TEXT NOT NULL,
  people BIGINT NOT NULL
);
-- The current version's rows: what every reader uses.
CREATE VIEW kid_spine_person AS
  SELECT p.* FROM kid_person p JOIN kid_current c ON c.id = 1 AND p.version = c.version;
CREATE VIEW kid_spine_registration AS
  SELECT r.* FROM kid_registration r JOIN kid_current c ON c.id = 1 AND r.version = c.version;
CREATE VIEW kid_spine_residence AS
  SELECT r.* FROM kid_residence r JOIN kid_current c ON c.id = 1 AND r.version = c.version;
-- "Who was in the population": one row per period a person was registered with a Kent and
-- Medway practice while alive. A person is in the population on day D when
-- from_date <= D AND (to_date IS NULL OR to_date >= D); see populationOn() in
-- src/kid/person-spine.ts, the one function that asks it.
CREATE VIEW kid_population_periods AS
  SELECT r.person_token, r.practice_code, r.from_date,
         CASE WHEN p.death_date IS NOT NULL AND (r.to_date IS NULL OR p.death_date < r.to_date)
              THEN p.death_date ELSE r.to_date END AS to_date
  FROM kid_spine_registration r
  JOIN kid_spine_person p ON p.person_token = r.person_token
  WHERE p.death_date IS NULL OR p.death_date >= r.from_date;
