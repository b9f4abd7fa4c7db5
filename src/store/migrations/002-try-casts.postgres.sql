-- PostgreSQL has no non-throwing cast (DuckDB's TRY_CAST); validation needs one, so
-- these answer NULL where the text is not a value of the type (see dialect.ts).
CREATE OR REPLACE FUNCTION kernel_try_date(value TEXT) RETURNS DATE AS $$
BEGIN
  IF value IS NULL OR value !~ '^\d{4}-\d{2}-\d{2}$' THEN RETURN NULL; END IF;
  RETURN value::DATE;
EXCEPTION WHEN others THEN RETURN NULL;
END $$ LANGUAGE plpgsql IMMUTABLE;

CREATE OR REPLACE FUNCTION kernel_try_integer(value TEXT) RETURNS BIGINT AS $$
BEGIN
  RETURN value::BIGINT;
EXCEPTION WHEN others THEN RETURN NULL;
END $$ LANGUAGE plpgsql IMMUTABLE;

CREATE OR REPLACE FUNCTION kernel_try_number(value TEXT) RETURNS DOUBLE PRECISION AS $$
BEGIN
  IF value ~* '^\s*[-+]?(nan|inf|infinity)\s*$' THEN RETURN NULL; END IF;
  RETURN value::DOUBLE PRECISION;
EXCEPTION WHEN others THEN RETURN NULL;
END $$ LANGUAGE plpgsql IMMUTABLE;

CREATE OR REPLACE FUNCTION kernel_try_timestamp(value TEXT) RETURNS TIMESTAMP AS $$
BEGIN
  IF value IS NULL OR value !~ '^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$' THEN RETURN NULL; END IF;
  RETURN value::TIMESTAMP;
EXCEPTION WHEN others THEN RETURN NULL;
END $$ LANGUAGE plpgsql IMMUTABLE;
