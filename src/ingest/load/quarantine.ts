/**
 * Stage 5 of the load: the rows that failed a check, into `load_quarantine` as the warehouse
 * would hold them (as JSON), each with the rule and field it failed first, so that the
 * sender can see and mend them (`kernel loads quarantine`). They are never loaded.
 */
import type { RowCheck } from '../../quality/row-rules.ts';
import { quoteIdentifier as q, quoteLiteral } from '../../store/sql.ts';
import type { LoadStage } from './load-stage.ts';

/** Quarantines the rows still set aside (`stage.scratch.bad`), `rows` of them. */
export async function quarantineRows(stage: LoadStage, rows: number): Promise<void> {
  if (rows === 0) return;
  const { tx, plan, checks } = stage;
  const firstFailed = (of: (c: RowCheck) => string): string =>
    `CASE kernel_check ${checks.map((c, k) => `WHEN ${k} THEN ${quoteLiteral(of(c))}`).join(' ')} END`;
  const rowJson = tx.dialect.rowJson(plan.columns.map((c) => ({ name: c.name, value: `b.${q(c.name)}` })));
  await tx.run(
    `INSERT INTO load_quarantine (load_id, source_line, rule, field, row_json) ` +
      `SELECT $1, b.kernel_line, ${firstFailed((c) => c.rule)}, ${firstFailed((c) => c.field)}, ${rowJson} ` +
      `FROM ${q(stage.scratch.bad)} b`,
    [stage.loadId],
  );
}
