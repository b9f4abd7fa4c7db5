import { expect } from 'vitest';
import { buildSpine } from '../src/kid/person-spine.ts';
import type { Store } from '../src/store/store.ts';
import { watchStatistics } from './planner-statistics.ts';

/**
 * Builds the KID in full on a PostgreSQL `store` and expects each statement of `knows` (by how
 * it begins) to have been sent for the version being built, with the planner's statistics of
 * each of its tables already holding that version.
 */
export async function expectBuildKnowsItsVersion(
  store: Store,
  knows: Record<string, readonly string[]>,
): Promise<void> {
  const tables = [...new Set(Object.values(knows).flat())];
  const watched = watchStatistics(store, Object.keys(knows), tables);
  const build = await buildSpine(watched.store, { full: true });
  for (const [statement, joined] of Object.entries(knows)) {
    const seen = watched.seen.get(statement);
    expect(seen?.version, statement).toBe(build.version);
    for (const table of joined)
      expect(seen?.versions.get(table), `${statement}: ${table}`).toContain(build.version);
  }
}
