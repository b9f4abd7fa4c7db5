/**
 * Stage 4 of the load: what the report says of the file. The rows still set aside each
 * failed a check (countFailures); findings count them by check, with the copies dropped and
 * the NHS numbers the agent found wrong, and reconcile the rows loaded with the sender's own
 * totals where the manifest carries them (issue 16: rows, sums, distinct people, rows by
 * month); completeness comes from the scan, less what the copies held.
 */
import { monthColumn, personColumn, summedColumn } from '../../privacy/control-totals.ts';
import type { FeedManifest } from '../../privacy/manifest.ts';
import type { RowCheck } from '../../quality/row-rules.ts';
import { quoteIdentifier as q } from '../../store/sql.ts';
import type { FieldCompleteness, LoadFinding } from '../load-history.ts';
import type { FeedScan } from '../scan-feed.ts';
import { num, type LoadStage } from './load-stage.ts';
import type { Repeats } from './repeats.ts';

/** The rows set aside that failed a check, and per check how many and the first line. */
export interface CheckFailures {
  rows: number;
  byCheck: { count: number; firstLine: number }[];
}

/** Counts the rows still set aside, by check; run once the rows that pass have been written. */
export async function countFailures(stage: LoadStage): Promise<CheckFailures> {
  const [totals] = await stage.tx.query(
    `SELECT count(*) AS bad${stage.checks
      .map(
        (_c: RowCheck, k) =>
          `, sum(CAST(k${k} AS INTEGER)) AS f${k}, min(CASE WHEN k${k} THEN kernel_line END) AS l${k}`,
      )
      .join('')} FROM ${q(stage.scratch.bad)}`,
  );
  return {
    rows: num(totals, 'bad'),
    byCheck: stage.checks.map((_c, k) => ({ count: num(totals, `f${k}`), firstLine: num(totals, `l${k}`) })),
  };
}

export interface LoadFindings {
  findings: LoadFinding[];
  completeness: FieldCompleteness[];
  rowsRead: number;
  /** the rows read less the copies dropped */
  rowsKept: number;
}

/** The findings of this load, with the rows loaded already in the dataset table. */
export async function loadFindings(
  stage: LoadStage,
  load: {
    scan: Pick<FeedScan, 'rows' | 'filled'>;
    repeats: Repeats;
    failures: CheckFailures;
    manifest: Pick<
      FeedManifest,
      'nhsNumberProblems' | 'nhsNumberField' | 'controlTotals' | 'birthDateProblems'
    >;
  },
): Promise<LoadFindings> {
  const { tx, plan, table, loadId } = stage;
  const { scan, repeats, manifest } = load;
  const rowsRead = scan.rows;
  const rowsDropped = repeats.rows;
  const kept = rowsRead - rowsDropped;
  const findings: LoadFinding[] = [];
  stage.checks.forEach((c, k) => {
    const count = load.failures.byCheck[k]?.count ?? 0;
    if (count > 0) {
      findings.push({
        rule: c.rule,
        field: c.field,
        count,
        firstLine: load.failures.byCheck[k]?.firstLine ?? 0,
      });
    }
  });
  if (rowsDropped > 0) {
    findings.push({
      rule: 'duplicate',
      field: null,
      count: rowsDropped,
      firstLine: repeats.firstLine,
    });
  }
  const nhsProblems = Object.values(manifest.nhsNumberProblems);
  const nhsCount = nhsProblems.reduce((sum, p) => sum + (p?.count ?? 0), 0);
  if (nhsCount > 0) {
    const nhsLines = nhsProblems.map((p) => p?.firstLine).filter((l): l is number => typeof l === 'number');
    findings.push({
      rule: 'nhs-number',
      field: manifest.nhsNumberField,
      count: nhsCount,
      firstLine: nhsLines.length ? Math.min(...nhsLines) : null,
    });
  }
  // Dates of birth the agent could not read: the rows loaded, with age and birth month empty.
  for (const [field, p] of Object.entries(manifest.birthDateProblems ?? {})) {
    if (p.count > 0) findings.push({ rule: 'birth-date', field, count: p.count, firstLine: p.firstLine });
  }
  // Reconciliation with the sender's own totals (issue 16), where the manifest carries them.
  const sent = manifest.controlTotals;
  if (sent?.rows !== undefined && sent.rows !== rowsRead) {
    findings.push({
      rule: 'control-total',
      field: null,
      count: Math.abs(sent.rows - rowsRead),
      firstLine: null,
      expected: sent.rows,
      actual: rowsRead,
    });
  }
  for (const [field, expected] of Object.entries(sent?.sums ?? {})) {
    // A field the load cannot sum (not in the dataset, or not a number) has no total here:
    // `kernel deid` refuses such totals, so only another system's manifest names one.
    if (!summedColumn(plan, field)) {
      findings.push({ rule: 'control-total', field, count: 1, firstLine: null, expected, actual: 0 });
      continue;
    }
    // The rows loaded hold the file's values as typed; quarantined rows are not counted in.
    const [sum] = await tx.query<{ total: number | null }>(
      `SELECT sum(CAST(${q(field)} AS DOUBLE PRECISION)) AS total FROM ${q(table)} WHERE load_id = $1`,
      [loadId],
    );
    const actual = Math.round(Number(sum?.total ?? 0) * 100) / 100;
    if (Math.abs(actual - expected) > 0.005) {
      findings.push({ rule: 'control-total', field, count: 1, firstLine: null, expected, actual });
    }
  }
  // Distinct patients in the rows loaded, against the sender's count of its extract's.
  const person = personColumn(plan);
  if (sent?.distinctPeople !== undefined && person) {
    const [people] = await tx.query<{ n: number }>(
      `SELECT count(DISTINCT ${q(person.name)}) AS n FROM ${q(table)} WHERE load_id = $1`,
      [loadId],
    );
    const actual = Number(people?.n ?? 0);
    if (actual !== sent.distinctPeople) {
      findings.push({
        rule: 'control-total',
        field: `distinct:${person.name}`,
        count: Math.abs(actual - sent.distinctPeople),
        firstLine: null,
        expected: sent.distinctPeople,
        actual,
      });
    }
  }
  // Rows by month of a date field, against the sender's counts.
  if (sent?.byMonth) {
    const field = sent.byMonth.field;
    const column = monthColumn(plan, field);
    const counted = new Map<string, number>();
    if (column) {
      const rows = await tx.query<{ y: number; m: number; n: number }>(
        `SELECT CAST(EXTRACT(YEAR FROM ${q(field)}) AS INTEGER) AS y, CAST(EXTRACT(MONTH FROM ${q(field)}) AS INTEGER) AS m, count(*) AS n
           FROM ${q(table)} WHERE load_id = $1 AND ${q(field)} IS NOT NULL GROUP BY 1, 2`,
        [loadId],
      );
      for (const r of rows) counted.set(`${r.y}-${String(r.m).padStart(2, '0')}`, Number(r.n));
    }
    const months = new Set([...Object.keys(sent.byMonth.rows), ...counted.keys()]);
    for (const month of [...months].sort()) {
      const expected = sent.byMonth.rows[month] ?? 0;
      const actual = counted.get(month) ?? 0;
      if (!column || expected !== actual) {
        findings.push({
          rule: 'control-total',
          field: `month:${month}:${field}`,
          count: Math.abs(actual - expected),
          firstLine: null,
          expected,
          actual,
        });
      }
    }
  }
  const completeness: FieldCompleteness[] = plan.columns.map((c, k) => {
    const filled = (scan.filled[k] ?? 0) - (repeats.filled[k] ?? 0);
    return { field: c.name, filled, percent: kept > 0 ? Math.round((filled * 1000) / kept) / 10 : 0 };
  });
  return { findings, completeness, rowsRead, rowsKept: kept };
}
