/**
 * A small random sample of a month's pseudonymised rows, for the sending organisation's BI
 * lead to eyeball in the sign-off pack (issue 16). Row-level warehouse data, so it is read
 * only by the controller's own people (a provider account of the sending organisation, not
 * an administrator: administrators see metadata only), without token columns, and every read
 * is audited (`data.sample-read`) and logged per controller in `data_access_log`, in one
 * transaction with the read.
 */
import { randomUUID } from 'node:crypto';
import { appendAudit } from '../audit/audit-log.ts';
import { ACCESS_COLUMNS } from '../audit/view-audit.ts';
import { getDataset } from '../catalogue/catalogue.ts';
import { tableName } from '../catalogue/shapes.ts';
import { inTransaction } from '../governance/governance-values.ts';
import { deidPlan } from '../privacy/deid-plan.ts';
import { quoteIdentifier } from '../store/sql.ts';
import type { Queryable, SqlValue } from '../store/store.ts';
import type { SignOffCaller, SignOffMonth } from './sign-off.ts';

export const SAMPLE_ROWS = 10;

export interface SampleRows {
  columns: string[];
  rows: SqlValue[][];
}

/** Whether the caller may see the month's rows: its own organisation's provider accounts. */
export function maySeeRows(caller: SignOffCaller, org: string): boolean {
  return caller.role === 'provider' && caller.org === org;
}

/** The sample, or null when the caller may not see rows. */
export async function sampleRows(
  q: Queryable,
  caller: SignOffCaller,
  month: SignOffMonth,
): Promise<SampleRows | null> {
  if (!maySeeRows(caller, month.org)) return null;
  const plan = deidPlan(getDataset(month.dataset));
  const columns = ['source_line', ...plan.columns.filter((c) => c.kind !== 'token').map((c) => c.name)];
  return inTransaction(q, async (tx) => {
    const rows = await tx.query<Record<string, SqlValue>>(
      `SELECT ${columns.map(quoteIdentifier).join(', ')} FROM ${quoteIdentifier(tableName(month.dataset))}
        WHERE load_id = $1 ORDER BY random() LIMIT ${SAMPLE_ROWS}`,
      [month.loadId],
    );
    await appendAudit(tx, {
      actor: caller.actor,
      action: 'data.sample-read',
      target: `org:${month.org}`,
      purpose: 'sign-off',
      details: { dataset: month.dataset, period: month.period, loadId: month.loadId, rows: rows.length },
    });
    await tx.insertRows('data_access_log', ACCESS_COLUMNS, [
      [
        randomUUID(),
        new Date().toISOString(),
        caller.actor,
        caller.role,
        'sign-off',
        month.dataset,
        month.org,
        false,
      ],
    ]);
    return {
      columns,
      rows: rows.map((r) => columns.map((c) => r[c] ?? null)),
    };
  });
}
