/**
 * What every stage of the load shares (docs/feeds.md, "The load, stage by stage"): the open
 * transaction, the plan, the dataset table, this load's scratch tables and the checks in SQL.
 * The stages run in this order, each in its own module beside this one:
 *
 *   stage-rows.ts  the first write of good rows (PostgreSQL's screened COPY, DuckDB's
 *                  validating insert), and the held rows that pass, written after the repeats
 *   set-aside.ts   the rows left out, with a flag per check and the first that fails
 *   repeats.ts     the copies among them dropped, the first kept
 *   findings.ts    findings, reconciliation with the sender's totals, completeness
 *   quarantine.ts  the rows that failed a check, kept for the sender to see
 *   publish.ts     the previous load superseded, the profile, the `loads` row, the audit
 */
import { statSync } from 'node:fs';
import type { CodeList } from '../../catalogue/dataset-spec.ts';
import { SOURCE_LINE, type DeidPlan } from '../../privacy/deid-plan.ts';
import {
  castValue,
  rowChecks,
  typedColumns,
  typedValues,
  type RowCheck,
  type TypedValues,
} from '../../quality/row-rules.ts';
import { quoteIdentifier as q } from '../../store/sql.ts';
import type { Queryable, Row } from '../../store/store.ts';
import { ensureDatasetTable } from '../dataset-table.ts';

/** This load's scratch tables, each named after the load so that two loads never meet. */
export interface ScratchTables {
  /** the rows set aside (set-aside.ts): left out of the first write, with their flags */
  bad: string;
  /** the lines of the rows held back from DuckDB's first write (stage-rows.ts) */
  held: string;
  /** the rows left out, read again by line as text (set-aside.ts) */
  leftOutText: string;
  /** the digests more than one row set aside shares (repeats.ts) */
  groups: string;
  /** the lines of the copies after the first (repeats.ts) */
  dropped: string;
}

export interface LoadStage {
  readonly tx: Queryable;
  readonly plan: DeidPlan;
  /** the dataset table, `ds_<id>` */
  readonly table: string;
  readonly loadId: string;
  readonly org: string;
  /** the reporting month YYYY-MM */
  readonly period: string;
  readonly codeList: (listId: string) => CodeList | undefined;
  readonly scratch: ScratchTables;
  /** the scratch tables made so far, dropped in reverse by dropScratch */
  readonly made: string[];
  /** the checks in SQL (quality/row-rules.ts), in the order that says which fails first */
  readonly checks: RowCheck[];
  /** the plan's columns, quoted, in order */
  readonly content: string[];
  /** `INSERT INTO` the dataset table, up to the SELECT that gives load id, org, line and content */
  readonly insertInto: string;
  /** whether the file is small enough that DuckDB's optimizer costs more than it saves */
  readonly smallFile: boolean;
}

/** Files above this size get DuckDB's optimizer for the full passes (see unoptimized). */
const OPTIMIZE_ABOVE_BYTES = 16 * 1024 * 1024;

/** The context of one load's stages, inside its transaction; makes the dataset table if need be. */
export async function openLoadStage(
  tx: Queryable,
  plan: DeidPlan,
  load: {
    loadId: string;
    org: string;
    period: string;
    file: string;
    codeList: (listId: string) => CodeList | undefined;
  },
): Promise<LoadStage> {
  const table = await ensureDatasetTable(tx, plan);
  const safeId = load.loadId.replace(/[^a-z0-9]/gi, '_');
  const scratch: ScratchTables = {
    bad: `kernel_bad_${safeId}`,
    held: `kernel_held_${safeId}`,
    leftOutText: `kernel_leftout_${safeId}`,
    groups: `kernel_dupgroups_${safeId}`,
    dropped: `kernel_dropped_${safeId}`,
  };
  const content = plan.columns.map((c) => q(c.name));
  return {
    tx,
    plan,
    table,
    loadId: load.loadId,
    org: load.org,
    period: load.period,
    codeList: load.codeList,
    scratch,
    made: [scratch.bad, scratch.held],
    checks: rowChecks(plan, load.codeList, tx.dialect),
    content,
    insertInto: `INSERT INTO ${q(table)} (load_id, org_code, source_line, ${content.join(', ')}) `,
    smallFile: statSync(load.file).size <= OPTIMIZE_ABOVE_BYTES,
  };
}

/** Drops the scratch tables, last made first, before the transaction ends. */
export async function dropScratch(stage: LoadStage): Promise<void> {
  for (const name of stage.made.reverse()) await stage.tx.exec(`DROP TABLE IF EXISTS ${q(name)}`);
}

/** A count from a row of totals (0 where absent). */
export const num = (row: Row | undefined, key: string): number => Number(row?.[key] ?? 0);

/** The line in the file of the row aliased `s`, from the feed's `source_line` column. */
export const sourceLine = `CAST(s.${q(SOURCE_LINE)} AS BIGINT)`;

/** Every column of the plan cast to its stored type, from `alias` (with each typed value cast once, where given). */
export const castColumns = (stage: LoadStage, alias: string, typed?: TypedValues): string =>
  stage.plan.columns.map((c) => castValue(c, alias, typed)).join(', ');

/** The rows of `from` (the file's text) as the checks read them: the line, and each value trimmed. */
export const trimmedFrom = (
  stage: LoadStage,
  from: string,
  asChecked: (column: string, prefix: string) => string,
): string =>
  `(SELECT ${sourceLine} AS kernel_line, ` +
  `${stage.plan.columns.map((c) => `${asChecked(c.name, 's.')} AS ${q(c.name)}`).join(', ')} FROM ${from} s)`;

/**
 * The trimmed rows with each typed value cast once, as a column beside its text
 * (row-rules.ts, TypedValues), and the checks that read those: the same verdicts, in the same
 * order, as `stage.checks`, each value trimmed and cast once a row (Dialect.computedOnceFence).
 */
export function typedRows(
  stage: LoadStage,
  trimmed: string,
): { relation: string; typed: TypedValues; checks: RowCheck[] } {
  const { plan, tx } = stage;
  const typed = typedValues(plan);
  const checks = rowChecks(plan, stage.codeList, tx.dialect, typed);
  const relation = typed.size
    ? `(SELECT u.*, ${typedColumns(plan, typed, tx.dialect, 'u.').join(', ')} FROM ${trimmed} u${tx.dialect.computedOnceFence})`
    : trimmed;
  return { relation, typed, checks };
}

/**
 * Runs `work` with DuckDB's optimizer off when it reads few rows. The validating statements
 * are wide scan-and-project statements: over a few rows (a small file, or the rows read
 * again) the optimizer costs more than it saves; over a large file its
 * common-subexpression pass pays.
 */
export async function unoptimized<T>(
  stage: LoadStage,
  work: () => Promise<T>,
  fewRows = stage.smallFile,
): Promise<T> {
  const skip = fewRows ? stage.tx.dialect.skipOptimizer : null;
  if (skip) await stage.tx.exec(skip.off);
  try {
    return await work();
  } finally {
    if (skip) await stage.tx.exec(skip.on);
  }
}
