import { quoteIdentifier, quoteLiteral } from './sql.ts';

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
   * A boolean expression: `text` matches the glob `pattern` (`[A-Z][0-9][0-9]`: one character
   * class or literal a character), or null where the engine has no glob. DuckDB's GLOB tests
   * each byte against its class in a plain loop, cheaper per value than a regular expression
   * (docs/feeds.md); PostgreSQL's SIMILAR TO is a regular expression underneath.
   */
  readonly globMatch: ((text: string, pattern: string) => string) | null;
  /**
   * A DATE from 'YYYY-MM-DD' text, or NULL where the text is not a real date.
   * DuckDB has TRY_CAST; PostgreSQL has no non-throwing cast, so migration 100 defines
   * kernel_try_date() for it, in plain SQL that checks before it casts.
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
   * Lower-case hex HMAC-SHA256 (RFC 2104) of text under a key given as hex: neither engine
   * has an HMAC built in (PostgreSQL's is in pgcrypto, an extension), so it is built from
   * SHA-256 over bytes, the key's inner and outer pads made here. NULL text gives NULL.
   */
  hmacSha256Hex(keyHex: string, text: string): string;
  /**
   * A cheap digest of a row's values (of any types), equal for equal rows (NULL included),
   * used only to find candidate duplicates that are then compared value by value. DuckDB's
   * built-in 64-bit hash runs at twice the speed of md5; PostgreSQL has no row hash, so md5
   * over the values as text.
   */
  rowDigest(values: readonly string[]): string;
  /**
   * A row's values as a JSON object's text, keys in the order given, for storing a row as
   * it was (a quarantined row). DuckDB builds a struct; PostgreSQL's row_to_json over a
   * one-row subquery, since json_build_object takes at most 50 pairs.
   */
  rowJson(fields: readonly { name: string; value: string }[]): string;
  /**
   * Statements that switch the query optimizer off and on again, for a wide scan-and-project
   * statement on a small input. DuckDB's optimizer spends ~0.3 s on the load's validation
   * statement even for a 20-row file, ten times the cost of running it (on a large file
   * its common-subexpression pass pays for itself); PostgreSQL plans it in a millisecond,
   * so it needs nothing.
   */
  readonly skipOptimizer: { off: string; on: string } | null;
  /**
   * Settings for the span of a bulk load, and how to put them back; database-wide, so
   * restored as soon as the load ends, whatever its outcome. DuckDB: rows need not keep the
   * file's order (every warehouse row carries its source line), which saves a fifth of a
   * million-row load; and its memory is capped at 1 GB, beyond which it spills to disk
   * (its default, 80% of the machine, let a ten-million-row load reach 1.7 GiB; capping
   * it for the whole server slowed the portal's small reads). Its optimizer's `in_clause`
   * rule, which turns each `IN` list of six or more constants into a join against the list,
   * is off: the load's checks hold one list per coded column (the SUS APC, 103 columns, has
   * sixty), and sixty joins' hash tables on every thread filled the 1 GB before a row was
   * written (a million-row APC load ran out of memory); as plain comparisons the lists cost
   * the same time and no memory. PostgreSQL: nothing.
   */
  readonly bulkLoad: { before: string; after: string } | null;
  /**
   * Settings for the span of a build of the Kent Integrated Dataset (src/kid/person-spine.ts),
   * and how to put them back. DuckDB: its memory is capped at 2 GiB, beyond which it spills to
   * disk and drops cached blocks. Left to its default (80% of the machine) a full build of 1.9
   * million people held 3.4–3.9 GiB at its peak, under the 4 GiB the build must stay within
   * only by luck; capped, 2.6–2.7 GiB (docs/kid.md, "Benchmark", has the figures). Not for the
   * whole server, for the reason `bulkLoad` gives. PostgreSQL: nothing (its server's memory
   * is its own configuration's).
   */
  readonly kidBuild: { before: string; after: string } | null;
  /**
   * Settings around one statement of a bulk load whose filter reads values computed once in
   * the relation below it (the load's typed values, quality/row-rules.ts `TypedValues`), and
   * how to put back bulkLoad's. DuckDB's filter pushdown moves such a filter below the
   * projection that computes them and copies each computation into every condition that reads
   * it, where each is computed again (a date with ten order rules parsed eleven times); with
   * it off for that statement, each is computed once. PostgreSQL: nothing.
   */
  readonly computedOnceBelowFilter: { before: string; after: string } | null;
  /**
   * What follows a subquery's SELECT so that its computed columns are computed once a row
   * rather than copied into every expression that reads them. PostgreSQL pulls a plain
   * subquery up into the statement, and an inlined SQL function repeats its argument in every
   * place it uses it, so a trimmed value read by a try-cast would be trimmed a dozen times per
   * check; `OFFSET 0` keeps the subquery whole. DuckDB computes a projection once (its
   * filters are `computedOnceBelowFilter`'s matter) and an OFFSET there would be an operator.
   */
  readonly computedOnceFence: string;
  /**
   * Whether a load sends the rows its scan screened as passing every rule
   * (quality/row-screen.ts) straight to their table with `copyCsvLines`, leaving SQL only
   * the rows set aside. PostgreSQL: COPY is its fastest way in, while the same rules in SQL
   * cost it microseconds a typed value, one core, every row (docs/feeds.md has the figures).
   * DuckDB: read_csv parses the file on every core, faster than the scan, and checks the
   * rules at column speed.
   */
  readonly copiesScreenedRows: boolean;
}

/** SHA-256's block is 64 bytes: a key no longer than that is zero-padded to it (RFC 2104 §2). */
function hmacPads(keyHex: string): { inner: string; outer: string } {
  if (!/^([0-9a-f]{2}){1,64}$/.test(keyHex)) throw new Error('An HMAC key must be 1 to 64 bytes of hex');
  const block = Buffer.alloc(64);
  Buffer.from(keyHex, 'hex').copy(block);
  const pad = (byte: number) => Buffer.from(block.map((b) => b ^ byte)).toString('hex');
  return { inner: pad(0x36), outer: pad(0x5c) };
}

/** The DuckDB optimizer rules a bulk load turns off for its span (see Dialect.bulkLoad). */
const DUCKDB_LOAD_OFF = 'in_clause';

export const duckdbDialect: Dialect = {
  name: 'duckdb',
  lockAuditChain: null,
  regexMatch: (text, pattern) => `regexp_full_match(${text}, ${pattern})`,
  globMatch: (text, pattern) => `(${text} GLOB ${pattern})`,
  tryDate: (text) => `TRY_CAST(${text} AS DATE)`,
  tryInteger: (text) => `TRY_CAST(${text} AS BIGINT)`,
  // TRY_CAST reads 'NaN', 'inf' and 1e400 (as infinity) as doubles; none is a measurement.
  tryNumber: (text) => `CASE WHEN isfinite(TRY_CAST(${text} AS DOUBLE)) THEN TRY_CAST(${text} AS DOUBLE) END`,
  tryTimestamp: (text) => `TRY_CAST(${text} AS TIMESTAMP)`,
  byteLength: (text) => `strlen(${text})`,
  sha256Hex: (text) => `sha256(${text})`,
  hmacSha256Hex: (keyHex, text) => {
    const { inner, outer } = hmacPads(keyHex);
    return `sha256(unhex('${outer}') || unhex(sha256(unhex('${inner}') || encode(${text}))))`;
  },
  rowDigest: (values) => `hash(${values.join(', ')})`,
  rowJson: (fields) =>
    `CAST(to_json({${fields.map((f) => `${quoteLiteral(f.name)}: ${f.value}`).join(', ')}}) AS VARCHAR)`,
  skipOptimizer: { off: 'PRAGMA disable_optimizer', on: 'PRAGMA enable_optimizer' },
  bulkLoad: {
    before: `SET preserve_insertion_order = false; SET memory_limit = '1GB'; SET disabled_optimizers = '${DUCKDB_LOAD_OFF}'`,
    after: 'RESET preserve_insertion_order; RESET memory_limit; RESET disabled_optimizers',
  },
  kidBuild: { before: `SET memory_limit = '2GiB'`, after: 'RESET memory_limit' },
  computedOnceBelowFilter: {
    before: `SET disabled_optimizers = '${DUCKDB_LOAD_OFF},filter_pushdown'`,
    after: `SET disabled_optimizers = '${DUCKDB_LOAD_OFF}'`,
  },
  computedOnceFence: '',
  copiesScreenedRows: false,
};

export const postgresDialect: Dialect = {
  name: 'postgres',
  lockAuditChain: 'LOCK TABLE audit_events IN SHARE ROW EXCLUSIVE MODE',
  regexMatch: (text, pattern) => `(${text} ~ ('^(' || ${pattern} || ')$'))`,
  globMatch: null,
  tryDate: (text) => `kernel_try_date(${text})`,
  tryInteger: (text) => `kernel_try_integer(${text})`,
  tryNumber: (text) => `kernel_try_number(${text})`,
  tryTimestamp: (text) => `kernel_try_timestamp(${text})`,
  byteLength: (text) => `octet_length(${text})`,
  sha256Hex: (text) => `encode(sha256(convert_to(${text}, 'UTF8')), 'hex')`,
  hmacSha256Hex: (keyHex, text) => {
    const { inner, outer } = hmacPads(keyHex);
    return `encode(sha256(decode('${outer}', 'hex') || sha256(decode('${inner}', 'hex') || convert_to(${text}, 'UTF8'))), 'hex')`;
  },
  // A PostgreSQL function takes at most 100 arguments, and a wide dataset (SUS APC: 103
  // columns) has more: join the values in chunks, then the chunks. No part is ever NULL, so
  // the text hashed, and every row's digest, is the same as one concat_ws over them all.
  rowDigest: (values) => {
    const parts = values.map((v) => `coalesce(CAST(${v} AS TEXT), chr(30))`);
    const chunks: string[] = [];
    for (let i = 0; i < parts.length; i += 90)
      chunks.push(`concat_ws(chr(31), ${parts.slice(i, i + 90).join(', ')})`);
    return `md5(${chunks.length === 1 ? chunks[0] : `concat_ws(chr(31), ${chunks.join(', ')})`})`;
  },
  rowJson: (fields) =>
    `(SELECT CAST(row_to_json(r) AS TEXT) FROM (SELECT ${fields
      .map((f) => `${f.value} AS ${quoteIdentifier(f.name)}`)
      .join(', ')}) r)`,
  skipOptimizer: null,
  bulkLoad: null,
  kidBuild: null,
  computedOnceBelowFilter: null,
  computedOnceFence: ' OFFSET 0',
  copiesScreenedRows: true,
};
