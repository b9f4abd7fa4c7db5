-- The try-casts of 002 as plain SQL (issue 21). PL/pgSQL functions with an EXCEPTION block
-- open a subtransaction on every call, for every typed value of every row: a 1M-row APC load
-- took 12x a plain COPY. These decide with regular expressions and arithmetic whether the
-- cast can succeed, and cast only then, so they never throw; as IMMUTABLE one-expression SQL
-- functions the planner inlines them into the load's INSERT … SELECT.

-- YYYY-MM-DD with a real day of a real month (years 0001 to 9999; February 29 in leap years).
CREATE OR REPLACE FUNCTION kernel_valid_ymd(value TEXT) RETURNS BOOLEAN AS $$
  SELECT value ~ '^(000[1-9]|00[1-9]\d|0[1-9]\d\d|[1-9]\d{3})-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])'
     AND substr(value, 9, 2)::INT <= CASE substr(value, 6, 2)
           WHEN '02' THEN CASE WHEN (substr(value, 1, 4)::INT % 4 = 0 AND substr(value, 1, 4)::INT % 100 <> 0)
                                 OR substr(value, 1, 4)::INT % 400 = 0 THEN 29 ELSE 28 END
           WHEN '04' THEN 30 WHEN '06' THEN 30 WHEN '09' THEN 30 WHEN '11' THEN 30
           ELSE 31 END
$$ LANGUAGE sql IMMUTABLE;

CREATE OR REPLACE FUNCTION kernel_try_date(value TEXT) RETURNS DATE AS $$
  SELECT CASE WHEN value ~ '^\d{4}-\d{2}-\d{2}$' AND kernel_valid_ymd(value) THEN value::DATE END
$$ LANGUAGE sql IMMUTABLE;

-- Whole numbers that fit a BIGINT: up to 18 digits always; 19 digits when within its range.
CREATE OR REPLACE FUNCTION kernel_try_integer(value TEXT) RETURNS BIGINT AS $$
  SELECT CASE
    WHEN value ~ '^\s*[-+]?\d{1,18}\s*$' THEN value::BIGINT
    WHEN value ~ '^\s*\+?\d{19}\s*$' AND btrim(value, ' +') <= '9223372036854775807' THEN value::BIGINT
    WHEN value ~ '^\s*-\d{19}\s*$' AND btrim(value, ' -') <= '9223372036854775808' THEN value::BIGINT
  END
$$ LANGUAGE sql IMMUTABLE;

-- Decimal numbers, with an optional exponent; no NaN or infinity. Kept to 40 characters and an
-- exponent of at most 250 either way, so no value can overflow or underflow a double.
CREATE OR REPLACE FUNCTION kernel_try_number(value TEXT) RETURNS DOUBLE PRECISION AS $$
  SELECT CASE
    WHEN length(value) <= 40
     AND value ~ '^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d{1,3})?\s*$'
     AND coalesce(abs(substring(value FROM '[eE]([-+]?\d{1,3})')::INT), 0) <= 250
    THEN value::DOUBLE PRECISION
  END
$$ LANGUAGE sql IMMUTABLE;

CREATE OR REPLACE FUNCTION kernel_try_timestamp(value TEXT) RETURNS TIMESTAMP AS $$
  SELECT CASE
    -- 24:00 is midnight at the day's end, as both engines have always read it.
    WHEN (value ~ '^\d{4}-\d{2}-\d{2}[T ]([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,6})?)?$'
          OR value ~ '^\d{4}-\d{2}-\d{2}[T ]24:00(:00(\.0{1,6})?)?$')
     AND kernel_valid_ymd(value)
    THEN value::TIMESTAMP
  END
$$ LANGUAGE sql IMMUTABLE;
