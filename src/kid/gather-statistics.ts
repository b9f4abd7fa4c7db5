import type { Queryable } from '../store/store.ts';

/**
 * On PostgreSQL, gathers statistics on tables a build has just written, before its later
 * statements join them: otherwise the planner has those of the version before, in which this
 * version's number has no rows, guesses one, and loops over whole tables once per row of
 * another. DuckDB keeps its own statistics.
 */
export async function gatherStatistics(q: Queryable, tables: readonly string[]): Promise<void> {
  if (q.dialect.name === 'postgres') await q.exec(`ANALYZE ${tables.join(', ')}`);
}
