/**
 * Rows kept by a range of versions: a row belongs to every version from `version`, the one
 * that wrote it, until `retired`, the one that replaced it (null while it is current). A new
 * version then writes only the rows that changed, and a reader of an older version still sees
 * that version whole until it is dropped. The KID's person-scoped tables are kept so
 * (src/kid/incremental-build.ts, VERSION_RANGED_TABLES).
 */

/** SQL: row `alias` belongs to version `version` (SQL or a `$n`). */
export function inVersion(alias: string, version: string): string {
  return `${alias}.version <= ${version} AND (${alias}.retired IS NULL OR ${alias}.retired > ${version})`;
}
