/**
 * The people of a superseded load (migration 135): when a load replaces an earlier one of the
 * same month, the earlier rows are deleted in the same transaction, and with them the only
 * record of whose they were. A consumer that rebuilds only the people whose inputs changed
 * (the Kent Integrated Dataset's incremental build, src/kid/incremental-build.ts) reads here
 * who they were. Tokens only: nothing that identifies anyone.
 */
import type { Queryable } from '../store/store.ts';

/** Records the person tokens of `table`'s rows of load `loadId` before they are deleted. */
export async function recordSupersededPeople(
  tx: Queryable,
  options: { table: string; loadId: string; supersededBy: string; dataset: string },
): Promise<void> {
  const hasToken = await tx.query<{ n: number }>(
    `SELECT count(*) AS n FROM information_schema.columns WHERE table_name = $1 AND column_name = 'person_token'`,
    [options.table],
  );
  if (Number(hasToken[0]?.n ?? 0) === 0) return;
  await tx.run(
    `INSERT INTO load_superseded_people (load_id, superseded_by, dataset_id, person_token)
     SELECT DISTINCT $1, $2, $3, person_token FROM "${options.table}" WHERE load_id = $1 AND person_token IS NOT NULL`,
    [options.loadId, options.supersededBy, options.dataset],
  );
}
