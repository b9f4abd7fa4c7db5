/**
 * Each dataset's accepted rows live in one table, `ds_<id with - as _>`, made from its
 * specification: `load_id`, `org_code` and `source_line`, then the accepted columns with
 * their stored types (engineering.md, "Warehouse tables").
 *
 * A specification may gain optional fields (a new minor version): a table made by an
 * earlier version gains the new columns, empty for the rows already loaded, so months
 * loaded before and after the change sit in one table. Columns are never dropped or
 * retyped here: that would lose data, and needs a migration someone has reviewed.
 */
import { tableName } from '../catalogue/shapes.ts';
import type { DeidPlan } from '../privacy/deid-plan.ts';
import { storedType } from '../quality/row-rules.ts';
import { quoteIdentifier } from '../store/sql.ts';
import type { Queryable } from '../store/store.ts';
import { tableColumns } from '../store/table-columns.ts';

export async function ensureDatasetTable(q: Queryable, plan: DeidPlan): Promise<string> {
  const table = tableName(plan.spec);
  const columns = [
    'load_id TEXT NOT NULL',
    'org_code TEXT NOT NULL',
    'source_line BIGINT NOT NULL',
    ...plan.columns.map((c) => `${quoteIdentifier(c.name)} ${storedType(c.type)}`),
  ];
  await q.exec(`CREATE TABLE IF NOT EXISTS ${quoteIdentifier(table)} (${columns.join(', ')})`);
  const existing = new Set(await tableColumns(q, table));
  for (const c of plan.columns.filter((c) => !existing.has(c.name))) {
    await q.exec(
      `ALTER TABLE ${quoteIdentifier(table)} ADD COLUMN ${quoteIdentifier(c.name)} ${storedType(c.type)}`,
    );
  }
  return table;
}
