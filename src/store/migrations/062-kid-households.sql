-- Households of the Kent Integrated Dataset (src/kid/households.ts, docs/kid.md): each fire
-- and rescue home-safety visit, linked through its household token to the people living
-- there (on the spine's residence history) on the visit date.
CREATE TABLE kid_fire_visit (
  version INTEGER NOT NULL,
  visit_date DATE NOT NULL,
  uprn_token TEXT NOT NULL,
  residents INTEGER NOT NULL,
  residents_75_plus INTEGER NOT NULL
);
CREATE VIEW kid_fire_visit_current AS
  SELECT v.* FROM kid_fire_visit v JOIN kid_current c ON c.id = 1 AND v.version = c.version;
