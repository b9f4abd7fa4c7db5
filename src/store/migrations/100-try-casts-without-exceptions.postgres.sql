-- The try-casts of migration 002 without exception handlers. A PL/pgSQL EXCEPTION block
-- opens a subtransaction on every call, for every typed value a load checks; these are
-- plain SQL, which the planner inlines into the statement that calls them, and they decide
-- with regular expressions and range checks before casting, so no cast can fail.
-- PostgreSQL 16 and later ask the type's own input function (pg_input_is_valid); 15 and
-- earlier (this project's test server) use the checks below, which answer as the casts do.

-- Days in a month of the proleptic Gregorian calendar, as PostgreSQL's dates count them.
CREATE OR REPLACE FUNCTION kernel_days_in_month(y INTEGER, m INTEGER) RETURNS INTEGER AS $$
  SELECT CASE
    WHEN m = 2 THEN CASE WHEN y % 4 = 0 AND (y % 100 <> 0 OR y % 400 = 0) THEN 29 ELSE 28 END
    WHEN m IN (4, 6, 9, 11) THEN 30
    ELSE 31
  END
$$ LANGUAGE sql IMMUTABLE;

-- 'YYYY-MM-DD' of a real day, years 1 to 9999 (make_date: immutable, unlike a text cast).
CREATE OR REPLACE FUNCTION kernel_try_date(value TEXT) RETURNS DATE AS $$
  SELECT CASE WHEN value ~ '^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$' THEN
    CASE WHEN substr(value, 1, 4) <> '0000'
      AND substr(value, 9, 2)::INTEGER <= kernel_days_in_month(substr(value, 1, 4)::INTEGER, substr(value, 6, 2)::INTEGER)
    THEN make_date(substr(value, 1, 4)::INTEGER, substr(value, 6, 2)::INTEGER, substr(value, 9, 2)::INTEGER) END
  END
$$ LANGUAGE sql IMMUTABLE;

-- What int8in reads (spaces either side, a sign, digits), within BIGINT's range.
CREATE OR REPLACE FUNCTION kernel_try_integer(value TEXT) RETURNS BIGINT AS $$
  SELECT CASE
    WHEN value ~ '^\s*[-+]?0*[0-9]{1,18}\s*$' THEN value::BIGINT
    WHEN value ~ '^\s*[-+]?0*[0-9]{19}\s*$'
      AND value::NUMERIC BETWEEN -9223372036854775808 AND 9223372036854775807 THEN value::BIGINT
  END
$$ LANGUAGE sql IMMUTABLE;

-- A finite number as float8in reads it (not NaN, not infinity), within DOUBLE PRECISION's
-- range: plain decimals cast at once; one with an exponent is measured as NUMERIC first.
CREATE OR REPLACE FUNCTION kernel_try_number(value TEXT) RETURNS DOUBLE PRECISION AS $$
  SELECT CASE
    -- a plain decimal of up to 308 digits before its point (leading zeros aside) cannot overflow
    WHEN value ~ '^\s*[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)\s*$'
      AND length(ltrim(split_part(ltrim(btrim(value, E' \t\n\r\v\f'), '+-'), '.', 1), '0')) <= 308
    THEN value::DOUBLE PRECISION
    -- with an exponent (of up to four digits, in a value of modest length), measured exactly
    WHEN length(value) <= 600 AND value ~ '^\s*[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]{1,4})?\s*$' THEN
      -- zero, or between half the least subnormal and the largest double (where strtod rounds)
      CASE WHEN value::NUMERIC = 0 OR (abs(value::NUMERIC) > 2.4703282292062327208828439643411068618e-324
        AND abs(value::NUMERIC) < 1.797693134862315807937289714053034150799e308)
      THEN value::DOUBLE PRECISION END
  END
$$ LANGUAGE sql IMMUTABLE;

-- 'YYYY-MM-DD HH:MM[:SS[.fraction]]' (or T for the space) of a real day and time, as
-- timestamp_in reads it: hours to 23 (24:00:00 exactly is midnight next), seconds to 60.
CREATE OR REPLACE FUNCTION kernel_try_timestamp(value TEXT) RETURNS TIMESTAMP AS $$
  SELECT CASE WHEN value ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ]([01][0-9]|2[0-3]):[0-5][0-9](:([0-5][0-9]|60)(\.[0-9]+)?)?$'
      OR value ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ]24:00(:00(\.0+)?)?$' THEN
    kernel_try_date(substr(value, 1, 10)) + make_interval(hours => substr(value, 12, 2)::INTEGER,
      mins => substr(value, 15, 2)::INTEGER, secs => coalesce(nullif(substr(value, 18), ''), '0')::DOUBLE PRECISION)
  END
$$ LANGUAGE sql IMMUTABLE;

DO $$
BEGIN
  IF current_setting('server_version_num')::INTEGER >= 160000 THEN
    EXECUTE $f$
      CREATE OR REPLACE FUNCTION kernel_try_integer(value TEXT) RETURNS BIGINT AS $b$
        SELECT CASE WHEN pg_input_is_valid(value, 'bigint') THEN value::BIGINT END
      $b$ LANGUAGE sql STABLE $f$;
    EXECUTE $f$
      CREATE OR REPLACE FUNCTION kernel_try_number(value TEXT) RETURNS DOUBLE PRECISION AS $b$
        SELECT CASE WHEN value !~* '^\s*[-+]?(nan|inf|infinity)\s*$'
          AND pg_input_is_valid(value, 'double precision') THEN value::DOUBLE PRECISION END
      $b$ LANGUAGE sql STABLE $f$;
  END IF;
END $$;
