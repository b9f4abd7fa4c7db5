/**
 * Each dataset's accepted rows live in one table, `ds_<id with - as _>`, made from its
 * specification: `load_id`, `org_code` and `source_line`, then the accepted columns with
 * their stored types (engineering.md, "Warehouse tables").
 */
import { tableName } from '../catalogue/shapes.ts';
import type { DeidPlan } from '../privacy/deid-plan.ts';
import { storedType } from '../quality/row-rules.ts';
import { quoteIdentifier } from '../store/sql.ts';
import type { Queryable } from '../store/store.ts';

export async function ensureDatasetTable(q: Queryable, plan: DeidPlan): Promise<string> {
  const table = tableName(plan.spec);
  const columns = [
    'load_id TEXT NOT NULL',
    'org_code TEXT NOT NULL',
    'source_line BIGINT NOT NULL',
    ...plan.columns.map((c) => `${quoteIdentifier(c.name)} ${storedType(c.type)}`),
  ];
  await q.exec(`CREATE TABLE IF NOT EXISTS ${quoteIdentifier(table)} (${columns.join(', ')})`);
  return table;
}
