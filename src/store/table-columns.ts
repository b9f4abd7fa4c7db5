import type { Queryable } from './store.ts';

/**
 * The columns of a table or view in the store's own schema, in their order; none when it
 * does not exist (yet). `information_schema` is the SQL standard's, so both engines answer it.
 */
export async function tableColumns(q: Queryable, relation: string): Promise<string[]> {
  const rows = await q.query<{ column_name: string }>(
    `SELECT column_name FROM information_schema.columns
     WHERE table_name = $1 AND table_schema = current_schema() ORDER BY ordinal_position`,
    [relation],
  );
  return rows.map((r) => r.column_name);
}

/** Which of `relations` exist in the store's own schema: one question, however many are asked about. */
export async function existingRelations(q: Queryable, relations: readonly string[]): Promise<Set<string>> {
  if (relations.length === 0) return new Set();
  const rows = await q.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables
     WHERE table_schema = current_schema() AND table_name IN (${relations.map((_, k) => `$${k + 1}`).join(', ')})`,
    [...relations],
  );
  return new Set(rows.map((r) => r.table_name));
}
