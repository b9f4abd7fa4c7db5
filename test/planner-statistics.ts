import type { Store } from '../src/store/store.ts';
import { watchStatements } from './watch-statements.ts';

/** What PostgreSQL's statistics held when a watched statement was sent. */
export interface StatisticsSeen {
  /** the statement's first parameter: a KID build's version */
  version: number;
  /** per table, the `version` values its statistics hold */
  versions: Map<string, number[]>;
}

/**
 * A PostgreSQL store that, before it runs a statement beginning with one of `statements`,
 * reads which versions the statistics of `tables` hold (pg_stats, the planner's view): a
 * build's statement planned while they know only the version before loops over whole tables.
 */
export function watchStatistics(
  store: Store,
  statements: readonly string[],
  tables: readonly string[],
): { store: Store; seen: Map<string, StatisticsSeen> } {
  return watchStatements(store, statements, async (target, params) => {
    const rows = await target.query<{ tablename: string; versions: string | null }>(
      `SELECT tablename, CAST(most_common_vals AS TEXT) AS versions FROM pg_stats
       WHERE schemaname = current_schema() AND attname = 'version'
         AND tablename IN (${tables.map((t) => `'${t}'`).join(', ')})`,
    );
    return {
      version: Number(params?.[0]),
      versions: new Map(
        rows.map((r) => [r.tablename, (r.versions ?? '{}').slice(1, -1).split(',').map(Number)]),
      ),
    };
  });
}
