-- DuckDB has TRY_CAST built in (see dialect.ts); nothing to define. This file keeps
-- migration 100 recorded on both engines so their versions match.
SELECT 1;
