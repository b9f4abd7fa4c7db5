/**
 * Stage 2 of the load: the rows the first write left out (none, usually) into the scratch
 * table `bad`, each with a flag per check (k0, k1…) and its first failing check in
 * `kernel_check` (none, for a held row that passes them all). They are told apart by line
 * (the scan has checked the lines count up), so the checks run on those rows alone; then
 * every row read must be either loaded or set aside, or the load fails.
 */
import { KernelError } from '../../errors.ts';
import { emptyAsNull, trimmedValue } from '../../quality/row-rules.ts';
import { quoteIdentifier as q, quoteLiteral } from '../../store/sql.ts';
import { leftOutRows, loadedBlocksSql } from '../row-index.ts';
import { num, sourceLine, trimmedFrom, typedRows, unoptimized, type LoadStage } from './load-stage.ts';
import type { StagedRows } from './stage-rows.ts';

/**
 * Whether the rows left out of the first write are read again one by one, through the
 * scan's index (into the engine by its appender or COPY), rather than by the engine parsing
 * the whole file again: up to one in ten, where reading them again is the cheaper
 * (docs/feeds.md, "The load, stage by stage").
 */
export function rereadsLeftOutRows(leftOut: number, rows: number): boolean {
  return leftOut > 0 && leftOut * 10 <= rows;
}

/** Sets aside the rows the first write left out, in `stage.scratch.bad`. */
export async function setAside(
  stage: LoadStage,
  staged: Pick<StagedRows, 'scan' | 'rowsLoaded' | 'source' | 'loaded' | 'mayRepeat'>,
  file: string,
): Promise<void> {
  const { tx, plan } = stage;
  const { scan, rowsLoaded, source } = staged;
  const thisLoad = `load_id = ${quoteLiteral(stage.loadId)}`;
  const leftOutCount = scan.rows - rowsLoaded;
  let leftOut = source
    ? `(SELECT s.* FROM ${source.sql} s WHERE NOT EXISTS ` +
      `(SELECT 1 FROM ${q(stage.table)} d WHERE d.${thisLoad} AND d.source_line = ${sourceLine}))`
    : '';
  const rereadRows = !source || rereadsLeftOutRows(leftOutCount, scan.rows);
  if (rereadRows && leftOutCount > 0) {
    // A few rows left out: read just those again, from where the scan saw them, rather than
    // have the engine parse every column of every row once more to find them. (The screened
    // copy knows them already; otherwise the table says which rows it holds.)
    const loadedBits =
      staged.loaded ??
      new Map(
        (await tx.query(loadedBlocksSql(q(stage.table), thisLoad, 'source_line'))).map((r) => [
          num(r, 'block'),
          num(r, 'bits'),
        ]),
      );
    const leftOutText = stage.scratch.leftOutText;
    stage.made.push(leftOutText);
    await tx.exec(
      `CREATE TABLE ${q(leftOutText)} (${plan.accepted.map((c) => `${q(c)} VARCHAR`).join(', ')})`,
    );
    await tx.insertRows(leftOutText, plan.accepted, leftOutRows(file, plan.accepted, scan.index, loadedBits));
    leftOut = q(leftOutText);
  } else if (!source) {
    leftOut = `(SELECT ${plan.accepted.map((c) => `CAST(NULL AS VARCHAR) AS ${q(c)}`).join(', ')})`;
  }
  const trimmed = trimmedFrom(stage, leftOut, staged.mayRepeat.tidy ? emptyAsNull : trimmedValue);
  // The flags read each typed value cast once (load-stage.ts, typedRows): the same verdicts,
  // check by check, as `stage.checks`, whose order says which fails first.
  const { relation, checks } = typedRows(stage, trimmed);
  const flags = checks.map((c, k) => `COALESCE(${c.condition}, FALSE) AS k${k}`);
  const firstFailure = checks.length
    ? `CASE ${checks.map((_c, k) => `WHEN k${k} THEN ${k}`).join(' ')} END`
    : 'CAST(NULL AS INTEGER)';
  const text = ['kernel_line', ...plan.columns.map((c) => c.name)].map((c) => `t.${q(c)}`).join(', ');
  // With nothing left out the statement reads nothing and makes the empty table the stages
  // after expect; DuckDB's optimizer is what sees that, so it runs optimized.
  const bad = q(stage.scratch.bad);
  const badRows = (): Promise<void> =>
    tx.exec(
      `CREATE TABLE ${bad} AS SELECT f.*, ${firstFailure} AS kernel_check FROM (` +
        `SELECT ${text}${flags.map((f) => `, ${f}`).join('')} FROM ${relation} t` +
        `${leftOutCount > 0 ? '' : ' WHERE FALSE'}) f`,
    );
  await (leftOutCount > 0 ? unoptimized(stage, badRows, stage.smallFile || rereadRows) : badRows());
  const [setAsideRows] = await tx.query(`SELECT count(*) AS n FROM ${bad}`);
  if (rowsLoaded + num(setAsideRows, 'n') !== scan.rows) {
    throw new KernelError(
      'internal',
      `The load could not account for every row: ${scan.rows} read, ${rowsLoaded} loaded, ${num(setAsideRows, 'n')} set aside`,
      { hint: 'Nothing was loaded. Report this, with the load id, to the Kernel team' },
    );
  }
}
