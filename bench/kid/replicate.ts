/**
 * bench/kid's scale-up: makes a warehouse of `factor` times the people from one loaded by the
 * real pipeline, by copying its loaded rows with every token re-keyed per copy (the person,
 * mother and household tokens `x` become `x~k`) and every load id the same way, so each copy
 * is a distinct set of people, households and loads with the original's shape: the same
 * months, practices, organisations, record counts per person and defects. On either engine:
 * the copies' numbers come from DuckDB's `range` or PostgreSQL's `generate_series`.
 *
 * Why: loading 24 months of feeds for 1.9 million people through the agent and the load
 * takes about two hours of machine time (about 15 million rows at 2,000 rows a second on the
 * shared machine); the KID build reads only the loaded tables, so a copy of a 100,000-person
 * warehouse measures the build at 1.9 million people over 24 months in minutes. What it does
 * not give is new people's variety: 19 copies of the same 100,000 lives.
 */
import type { Store } from '../../src/store/store.ts';

/** Copies the rows of `loadIds` (every load, if not given) `factor - 1` times. Answers the rows added. */
export async function replicateLoads(
  store: Store,
  factor: number,
  loadIds?: readonly string[],
): Promise<number> {
  if (factor <= 1) return 0;
  const chosen = loadIds
    ? `load_id IN (${loadIds.map((id) => `'${id.replace(/'/g, "''")}'`).join(', ')})`
    : `load_id NOT LIKE '%~%'`;
  const rekey = (column: string): string =>
    column.endsWith('_token') || column === 'load_id' || column === 'superseded_by'
      ? `CASE WHEN "${column}" IS NULL THEN NULL ELSE "${column}" || '~' || CAST(copy_number AS TEXT) END`
      : `"${column}"`;
  const copies = copyNumbers(store, factor);
  const tables = (
    await store.query<{ table_name: string }>(
      `SELECT DISTINCT table_name FROM information_schema.columns
       WHERE table_schema = current_schema() AND column_name = 'load_id' AND (table_name LIKE 'ds\\_%' ESCAPE '\\' OR table_name = 'loads')`,
    )
  ).map((t) => t.table_name);
  let rows = 0;
  for (const table of tables) {
    const columns = (
      await store.query<{ column_name: string }>(
        `SELECT column_name FROM information_schema.columns
         WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`,
        [table],
      )
    ).map((c) => c.column_name);
    const where = table === 'loads' ? `${chosen} AND status = 'loaded'` : chosen;
    rows += await store.run(
      `INSERT INTO "${table}" (${columns.map((c) => `"${c}"`).join(', ')})
       SELECT ${columns.map(rekey).join(', ')}
       FROM "${table}" CROSS JOIN ${copies}
       WHERE ${where}`,
    );
  }
  return rows;
}

/** The copies' numbers 1 … factor - 1 as a table `copies(copy_number)`, on either engine. */
function copyNumbers(store: Store, factor: number): string {
  return store.dialect.name === 'postgres'
    ? `generate_series(1, ${factor - 1}) AS copies(copy_number)`
    : `range(1, ${factor}) copies(copy_number)`;
}

/**
 * Puts the copies of the people on the national data opt-out list on it too (`x` becomes
 * `x~k`, as `replicateLoads` re-keys them), under the list's batch. Answers the tokens added.
 */
export async function replicateOptOuts(store: Store, factor: number): Promise<number> {
  if (factor <= 1) return 0;
  const added = await store.run(
    `INSERT INTO optouts (token, batch_id)
     SELECT token || '~' || CAST(copy_number AS TEXT), batch_id
     FROM optouts CROSS JOIN ${copyNumbers(store, factor)} WHERE token NOT LIKE '%~%'`,
  );
  await store.run(
    'UPDATE optout_batches SET token_count = (SELECT count(*) FROM optouts WHERE optouts.batch_id = optout_batches.batch_id)',
  );
  return added;
}
