-- DuckDB has TRY_CAST built in; the PostgreSQL try-casts become plain SQL here (issue 21).
-- This file keeps migration 003 recorded on both engines so their versions match.
SELECT 1;
