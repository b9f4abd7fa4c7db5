-- The linkage report counts rows that came without a token but that the latest `kernel link`
-- run linked, by their encodings, to a person on the spine (docs/kid.md, docs/linkage.md).
-- The view is dropped and made again: PostgreSQL fixes a view's columns when it is created.
DROP VIEW kid_linkage_current;
ALTER TABLE kid_linkage ADD COLUMN linked_probabilistically BIGINT DEFAULT 0;
CREATE VIEW kid_linkage_current AS
  SELECT l.* FROM kid_linkage l JOIN kid_current c ON c.id = 1 AND l.version = c.version;
