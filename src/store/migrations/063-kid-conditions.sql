-- Long-term conditions of the Kent Integrated Dataset's person-level model (src/kid/conditions.ts):
-- the code lists each build used, and each person's conditions with the first date coded.
CREATE TABLE kid_code_list (
  version INTEGER NOT NULL,
  condition TEXT NOT NULL,
  code TEXT NOT NULL
);
CREATE TABLE kid_condition (
  version INTEGER NOT NULL,
  person_token TEXT NOT NULL,
  condition TEXT NOT NULL,
  first_date DATE NOT NULL
);
CREATE VIEW kid_condition_current AS
  SELECT k.* FROM kid_condition k JOIN kid_current c ON c.id = 1 AND k.version = c.version;
