/**
 * The load's rows against the month it is loaded as. A dataset's period field says which
 * month a row is for (the catalogue's `periodField`). A file may carry some rows of other
 * months, such as late records or a resend, but when none of its rows falls in the month it is
 * loaded as, that month is wrong: loading it would supersede the month's real feed and count
 * the rows' own month twice. So the whole load is refused, inside its transaction, before
 * anything is published.
 */
import { KernelError } from '../../errors.ts';
import { addMonths } from '../../governance/governance-values.ts';
import { quoteIdentifier as q } from '../../store/sql.ts';
import { num, type LoadStage } from './load-stage.ts';

export async function refuseRowsOfAnotherMonth(stage: LoadStage, displayName: string): Promise<void> {
  const field = q(stage.plan.spec.periodField);
  const [counts] = await stage.tx.query(
    `SELECT count(${field}) AS dated,
            count(*) FILTER (WHERE ${field} >= CAST($2 AS DATE) AND ${field} < CAST($3 AS DATE)) AS inside,
            CAST(min(${field}) AS VARCHAR) AS earliest, CAST(max(${field}) AS VARCHAR) AS latest
       FROM ${q(stage.table)} WHERE load_id = $1`,
    [stage.loadId, `${stage.period}-01`, `${addMonths(stage.period, 1)}-01`],
  );
  const dated = num(counts, 'dated');
  if (dated === 0 || num(counts, 'inside') > 0) return;
  const earliest = String(counts?.['earliest']).slice(0, 7);
  const latest = String(counts?.['latest']).slice(0, 7);
  const span = earliest === latest ? earliest : `${earliest} to ${latest}`;
  throw new KernelError(
    'refused',
    `None of the ${dated} rows loaded falls in ${stage.period}, the month the file is loaded as: by ${stage.plan.spec.periodField} they fall in ${span}`,
    {
      where: { file: displayName, field: stage.plan.spec.periodField },
      hint: `Send the file as the month its rows are for (kernel deid names it when --period is left out), or send the extract for ${stage.period}`,
    },
  );
}
