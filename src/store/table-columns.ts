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
