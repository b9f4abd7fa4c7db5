import type { Store } from '../src/store/store.ts';

/** One row a load quarantined: its line in the accepted file, the rule that refused it, and the field. */
export interface QuarantinedRow {
  source_line: number;
  rule: string;
  field: string;
}

/** The rows load `loadId` quarantined, by line and then field, each line a number on both engines. */
export async function quarantinedRows(store: Store, loadId: string): Promise<QuarantinedRow[]> {
  const rows = await store.query<{ source_line: number | string; rule: string; field: string }>(
    'SELECT source_line, rule, field FROM load_quarantine WHERE load_id = $1 ORDER BY source_line, field',
    [loadId],
  );
  return rows.map((q) => ({ ...q, source_line: Number(q.source_line) }));
}
