/**
 * Stage 1 of the load: the first write of good rows into `ds_<id>`, in one pass over the
 * file, every row that passes every check, less the rows that may repeat another
 * (repeat-candidates.ts, which says why), held back so that a repeat is never a row the
 * transaction must delete. Most files are clean, so this is usually the only full pass.
 *
 * PostgreSQL copies the rows its scan screened, typed as they land (screened-copy.ts);
 * DuckDB reads the file in place and inserts the rows that pass the checks in SQL. Once the
 * repeats are sorted out (repeats.ts), stageHeldRows writes the held rows that are no repeats.
 */
import { anyCheckFails, emptyAsNull, trimmedValue } from '../../quality/row-rules.ts';
import { rowScreen } from '../../quality/row-screen.ts';
import { ProfileTally } from '../../quality/profile-tally.ts';
import { anchored } from '../../catalogue/catalogue.ts';
import { quoteIdentifier as q } from '../../store/sql.ts';
import type { CsvRelation } from '../../store/store.ts';
import { repeatCandidates, type RepeatCandidates } from '../repeat-candidates.ts';
import type { FeedScan, ScanOptions } from '../scan-feed.ts';
import { copyScreenedRows } from '../screened-copy.ts';
import { castColumns, trimmedFrom, typedRows, unoptimized, type LoadStage } from './load-stage.ts';

/** The file the load reads, and its scan. */
export interface FeedToStage {
  file: string;
  /** starts the scan of the file (once, with the options of the first call) and gives its outcome */
  startScan: (options?: Pick<ScanOptions, 'onRow' | 'onChunk'>) => Promise<FeedScan>;
}

export interface StagedRows {
  /** the scan of the file, which agreed with the manifest */
  scan: FeedScan;
  /** the rows the first write loaded */
  rowsLoaded: number;
  /** the file as a relation, where the engine made one (DuckDB); release it when done */
  source: CsvRelation | undefined;
  /** the rows loaded by the first write, by block (row-index.ts), where known without asking */
  loaded: Map<number, number> | undefined;
  /** the rows that may be repeats, held back */
  mayRepeat: RepeatCandidates;
  /** the parts of the profile the screened copy tallies (profile-tally.ts) */
  tally: ProfileTally | undefined;
}

/** The first write. The scan must agree with the manifest before anything counts, so it waits for it. */
export async function stageRows(stage: LoadStage, feed: FeedToStage): Promise<StagedRows> {
  const { tx, plan } = stage;
  // A structural fault the engine meets first: the scan's message says where, so prefer it.
  const scanFirst = async <T>(work: Promise<T>): Promise<T> => {
    try {
      return await work;
    } catch (error) {
      await feed.startScan();
      throw error;
    }
  };
  // Finding the rows that may repeat starts first, beside the engine's preparation of the
  // file. In a file with no padded or quoted value (most), only empty values need a look in
  // SQL (`tidy`).
  const finding = repeatCandidates(feed.file);
  finding.catch(() => undefined);

  if (tx.dialect.copiesScreenedRows) {
    const tally = new ProfileTally(plan);
    // Good rows, typed as they land, in the scan's one pass (screened-copy.ts).
    const mayRepeat = await finding;
    const copied = await copyScreenedRows(tx, {
      table: stage.table,
      plan,
      leading: { columns: ['load_id', 'org_code'], values: [stage.loadId, stage.org] },
      screen: rowScreen(plan, stage.codeList, anchored),
      hold: mayRepeat.lines,
      ...(tally.any ? { tally } : {}),
      inParts: { codeList: stage.codeList, quotedLineBreaks: mayRepeat.quotedLineBreaks },
      startScan: feed.startScan,
    });
    const scan = copied.scan;
    return {
      scan,
      rowsLoaded: copied.rowsLoaded,
      source: undefined,
      loaded: scan.index.allBut(copied.setAside),
      mayRepeat,
      tally,
    };
  }

  // The file as a relation (DuckDB reads it in place).
  const source = await scanFirst(tx.csvRelation({ path: feed.file, columns: stage.plan.accepted }));
  const mayRepeat = await finding;
  const holding = mayRepeat.lines.length > 0;
  const held = stage.scratch.held;
  if (holding) {
    await tx.exec(`CREATE TABLE ${q(held)} (line BIGINT)`);
    await tx.insertRows(
      held,
      ['line'],
      mayRepeat.lines.map((l) => [l]),
    );
  }
  // The scan runs beside the insert, which leaves a core idle at times; the step above
  // uses every core, so it goes first.
  const scanning = feed.startScan();
  // Good rows, cast to their stored types: every row that passes every check (and is not
  // held). Each typed value is cast once, beside its text (row-rules.ts, TypedValues), and
  // the checks and the stored value read that: the same verdicts as `stage.checks`, which
  // set-aside.ts still uses to say which check a row failed.
  const trimmed = trimmedFrom(stage, source.sql, mayRepeat.tidy ? emptyAsNull : trimmedValue);
  const { relation: typedRelation, typed, checks: typedChecks } = typedRows(stage, trimmed);
  const once = stage.smallFile ? null : tx.dialect.computedOnceBelowFilter;
  if (once) await tx.exec(once.before);
  let rowsLoaded: number;
  try {
    rowsLoaded = await scanFirst(
      unoptimized(stage, () =>
        tx.run(
          `${stage.insertInto}SELECT $1, $2, t.kernel_line, ${castColumns(stage, 't.', typed)} FROM ${typedRelation} t ` +
            `WHERE (${anyCheckFails(typedChecks)}) IS NOT TRUE` +
            (holding ? ` AND t.kernel_line NOT IN (SELECT line FROM ${q(held)})` : ''),
          [stage.loadId, stage.org],
        ),
      ),
    );
  } finally {
    // Settings only: a failed insert's own error is the one to report.
    if (once) await tx.exec(once.after).catch(() => undefined);
  }
  return { scan: await scanning, rowsLoaded, source, loaded: undefined, mayRepeat, tally: undefined };
}

/**
 * The rows set aside that pass every check join the loaded rows: held rows that are no
 * repeats (and, should the scan ever read a row unlike the engine, a row that passes).
 * Answers how many.
 */
export async function stageHeldRows(stage: LoadStage, tally: ProfileTally | undefined): Promise<number> {
  const { tx, plan } = stage;
  const bad = q(stage.scratch.bad);
  if (tally?.any) {
    const later = await tx.query(`SELECT ${stage.content.join(', ')} FROM ${bad} WHERE kernel_check IS NULL`);
    for (const row of later) tally.addText(plan.columns.map((c) => (row[c.name] ?? null) as string | null));
  }
  const written = await tx.run(
    `${stage.insertInto}SELECT $1, $2, b.kernel_line, ${castColumns(stage, 'b.')} FROM ${bad} b WHERE b.kernel_check IS NULL`,
    [stage.loadId, stage.org],
  );
  await tx.run(`DELETE FROM ${bad} WHERE kernel_check IS NULL`);
  return written;
}
