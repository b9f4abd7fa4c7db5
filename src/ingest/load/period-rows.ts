/**
 * The file's rows against the month it is loaded as, when loading it would replace that
 * month's load. A dataset's period field says which month a row is for (the catalogue's
 * `periodField`). A file may carry rows of other months: late records, a resend, a first
 * feed of history only, or an admission's episodes sent in the month of admission and ending
 * after it. But a file none of whose rows falls in the month, sent to replace the month's
 * current load, is almost surely labelled with the wrong month (last month's extract sent
 * again under this month's name): loading it would delete the month's real rows and count the
 * file's own month twice. So that load is refused whole, inside its transaction, before
 * anything is published. Every row read counts, loaded or set aside to be quarantined: a
 * file whose rows all fail a check would replace the month just the same. `kernel deid
 * --period` warns of the same mismatch before the file is sent.
 */
import { KernelError } from '../../errors.ts';
import { addMonths } from '../../governance/governance-values.ts';
import { quoteIdentifier as q } from '../../store/sql.ts';
import type { Row } from '../../store/store.ts';
import { num, type LoadStage } from './load-stage.ts';

/** Rows with a period date, those in the month, and the first and last date (as text). */
interface MonthCount {
  dated: number;
  inside: number;
  earliest: string | null;
  latest: string | null;
}

const monthCount = (row: Row | undefined): MonthCount => ({
  dated: num(row, 'dated'),
  inside: num(row, 'inside'),
  earliest: row?.['earliest'] == null ? null : String(row['earliest']),
  latest: row?.['latest'] == null ? null : String(row['latest']),
});

/**
 * Refuses the load when it would replace the month's current load and none of its rows falls
 * in the month. `rowsRead` is every row of the file, the repeats dropped and the rows with no
 * date included, as the report counts them: none of those falls in the month either.
 */
export async function refuseRowsOfAnotherMonth(
  stage: LoadStage,
  file: { displayName: string; rowsRead: number },
): Promise<void> {
  const current = await stage.tx.query(
    "SELECT 1 AS one FROM loads WHERE org_code = $1 AND dataset_id = $2 AND period = $3 AND status = 'loaded' AND load_id <> $4",
    [stage.org, stage.plan.spec.id, stage.period, stage.loadId],
  );
  if (current.length === 0) return;
  const name = stage.plan.spec.periodField;
  const field = q(name);
  // Loaded, a date is a DATE and a datetime ISO-8601 text (row-rules.ts), which sorts as time does.
  const bound = (k: number): string =>
    stage.plan.columns.find((c) => c.name === name)?.type === 'date' ? `CAST($${k} AS DATE)` : `$${k}`;
  const loaded = monthCount(
    (
      await stage.tx.query(
        `SELECT count(${field}) AS dated,
                count(*) FILTER (WHERE ${field} >= ${bound(2)} AND ${field} < ${bound(3)}) AS inside,
                CAST(min(${field}) AS VARCHAR) AS earliest, CAST(max(${field}) AS VARCHAR) AS latest
           FROM ${q(stage.table)} WHERE load_id = $1`,
        [stage.loadId, `${stage.period}-01`, `${addMonths(stage.period, 1)}-01`],
      )
    )[0],
  );
  if (loaded.inside > 0) return;
  // Set aside, a value is the file's text, trimmed; one that does not start as a date has no month.
  const dated = `${field} LIKE '____-__-__%'`;
  const setAside = monthCount(
    (
      await stage.tx.query(
        `SELECT count(*) FILTER (WHERE ${dated}) AS dated,
                count(*) FILTER (WHERE ${dated} AND substr(${field}, 1, 7) = $1) AS inside,
                min(CASE WHEN ${dated} THEN ${field} END) AS earliest,
                max(CASE WHEN ${dated} THEN ${field} END) AS latest
           FROM ${q(stage.scratch.bad)} WHERE kernel_check IS NOT NULL`,
        [stage.period],
      )
    )[0],
  );
  if (setAside.inside > 0 || loaded.dated + setAside.dated === 0) return;
  const ends = [loaded.earliest, loaded.latest, setAside.earliest, setAside.latest]
    .filter((d): d is string => d !== null)
    .map((d) => d.slice(0, 7))
    .sort();
  const span = ends[0] === ends[ends.length - 1] ? ends[0] : `${ends[0]} to ${ends[ends.length - 1]}`;
  throw new KernelError(
    'refused',
    `None of the ${file.rowsRead} rows read falls in ${stage.period}, the month whose load the file would replace: by ${name} they fall in ${span}`,
    {
      where: { file: file.displayName, field: name },
      hint: `Send the file as the month its rows are for (kernel deid names it when --period is left out), or send the extract for ${stage.period}; the current load of ${stage.period} stays`,
    },
  );
}
