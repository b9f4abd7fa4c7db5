/**
 * Everything that differs between the two engines, named once with the reason.
 * Callers ask the dialect ("which form of regex match?"), never "are you Postgres?".
 */
export interface Dialect {
  readonly name: 'duckdb' | 'postgres';
  /**
   * SQL that makes the caller the only writer of the audit chain until its transaction
   * ends. PostgreSQL has concurrent writers, so it takes a table lock; DuckDB's engine
   * serialises every write transaction inside the one process that holds the file.
   */
  readonly lockAuditChain: string | null;
  /** A boolean expression: `text` matches the POSIX regular expression `pattern`. */
  regexMatch(text: string, pattern: string): string;
  /**
   * A DATE from 'YYYY-MM-DD' text, or NULL where the text is not a real date.
   * DuckDB has TRY_CAST; PostgreSQL has no non-throwing cast, so migration 001 defines
   * kernel_try_date() for it.
   */
  tryDate(text: string): string;
  /** Like tryDate, for integers. */
  tryInteger(text: string): string;
  /** Like tryDate, for decimals (DOUBLE PRECISION). */
  tryNumber(text: string): string;
  /** Like tryDate, for 'YYYY-MM-DDTHH:MM:SS' or 'YYYY-MM-DD HH:MM:SS' timestamps. */
  tryTimestamp(text: string): string;
  /** The length of text in UTF-8 bytes (DuckDB strlen; PostgreSQL octet_length). */
  byteLength(text: string): string;
  /** Lower-case hex SHA-256 of text's UTF-8 bytes (DuckDB sha256; PostgreSQL sha256 on bytea). */
  sha256Hex(text: string): string;
  /**
   * Statements that switch the query optimizer off and on again, for a wide scan-and-project
   * statement that gains nothing from optimizing. DuckDB's optimizer spends ~0.3 s on the
   * load's 60-expression validation projection even for a 20-row file, ten times the cost of
   * running it; PostgreSQL plans it in a millisecond, so it needs nothing.
   */
  readonly skipOptimizer: { off: string; on: string } | null;
}

export const duckdbDialect: Dialect = {
  name: 'duckdb',
  lockAuditChain: null,
  regexMatch: (text, pattern) => `regexp_full_match(${text}, ${pattern})`,
  tryDate: (text) => `TRY_CAST(${text} AS DATE)`,
  tryInteger: (text) => `TRY_CAST(${text} AS BIGINT)`,
  tryNumber: (text) => `TRY_CAST(${text} AS DOUBLE)`,
  tryTimestamp: (text) => `TRY_CAST(${text} AS TIMESTAMP)`,
  byteLength: (text) => `strlen(${text})`,
  sha256Hex: (text) => `sha256(${text})`,
  skipOptimizer: { off: 'PRAGMA disable_optimizer', on: 'PRAGMA enable_optimizer' },
};

export const postgresDialect: Dialect = {
  name: 'postgres',
  lockAuditChain: 'LOCK TABLE audit_events IN SHARE ROW EXCLUSIVE MODE',
  regexMatch: (text, pattern) => `(${text} ~ ('^(' || ${pattern} || ')$'))`,
  tryDate: (text) => `kernel_try_date(${text})`,
  tryInteger: (text) => `kernel_try_integer(${text})`,
  tryNumber: (text) => `kernel_try_number(${text})`,
  tryTimestamp: (text) => `kernel_try_timestamp(${text})`,
  byteLength: (text) => `octet_length(${text})`,
  sha256Hex: (text) => `encode(sha256(convert_to(${text}, 'UTF8')), 'hex')`,
  skipOptimizer: null,
};
