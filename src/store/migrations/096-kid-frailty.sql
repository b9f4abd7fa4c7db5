-- Frailty of the Kent Integrated Dataset's person-level model (src/kid/frailty.ts, docs/kid.md
-- "Frailty (eFI)"): the electronic Frailty Index (Clegg et al., Age and Ageing 2016) of each
-- person aged 65+ in the population on the model's date (as_of), the deficits found, and the
-- code lists each build used.
CREATE TABLE kid_efi_code (
  version INTEGER NOT NULL,
  deficit TEXT NOT NULL,
  code TEXT NOT NULL
);
CREATE TABLE kid_frailty (
  version INTEGER NOT NULL,
  person_token TEXT NOT NULL,
  deficits INTEGER NOT NULL,
  efi DOUBLE PRECISION NOT NULL,
  category TEXT NOT NULL,
  as_of DATE NOT NULL
);
CREATE TABLE kid_frailty_deficit (
  version INTEGER NOT NULL,
  person_token TEXT NOT NULL,
  deficit TEXT NOT NULL
);
CREATE VIEW kid_spine_frailty AS
  SELECT f.* FROM kid_frailty f JOIN kid_current c ON c.id = 1 AND f.version = c.version;
CREATE VIEW kid_spine_frailty_deficit AS
  SELECT d.* FROM kid_frailty_deficit d JOIN kid_current c ON c.id = 1 AND d.version = c.version;
