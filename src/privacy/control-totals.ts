/**
 * Which fields a sender's control totals (issue 16, docs/feeds.md *Reconciliation*) may name:
 * a sum only of a numeric field of the dataset, rows by month only of a date field, distinct
 * people only where the dataset has an NHS number. `kernel deid` refuses totals that name any
 * other before it writes anything, and the load reconciles only these (a total it cannot
 * compute is a finding, never a query that fails on a row's value).
 */
import { KernelError } from '../errors.ts';
import type { AcceptedColumn, DeidPlan } from './deid-plan.ts';
import type { ControlTotals } from './manifest.ts';

/** The column whose values the load sums for `sums[field]`: an integer or decimal one. */
export function summedColumn(plan: DeidPlan, field: string): AcceptedColumn | undefined {
  return plan.columns.find((c) => c.name === field && (c.type === 'integer' || c.type === 'decimal'));
}

/** The column whose months the load counts rows by for `byMonth.field`: a date one. */
export function monthColumn(plan: DeidPlan, field: string): AcceptedColumn | undefined {
  return plan.columns.find((c) => c.name === field && c.type === 'date');
}

/** The column of person tokens the load counts distinct people by, where the dataset has one. */
export function personColumn(plan: DeidPlan): AcceptedColumn | undefined {
  return plan.columns.find((c) => c.kind === 'token' && c.tokenKind === 'nhs-number');
}

/** Refuses totals that name a field the load could not reconcile (see the top of this file). */
export function checkControlTotals(totals: ControlTotals, plan: DeidPlan): void {
  const { id } = plan.spec;
  const refuse = (message: string, field: string, hint: string): never => {
    throw new KernelError('invalid-input', `The control totals ${message}`, {
      where: { field },
      hint: `${hint} (\`kernel datasets show ${id}\`), or leave the total out`,
    });
  };
  const names = (columns: AcceptedColumn[]): string => columns.map((c) => c.name).join(', ') || 'none';
  for (const field of Object.keys(totals.sums ?? {})) {
    if (!summedColumn(plan, field)) {
      refuse(
        `sum ${field}, which is not a numeric field of ${id}`,
        field,
        `Sum one of its numeric fields: ${names(plan.columns.filter((c) => summedColumn(plan, c.name)))}`,
      );
    }
  }
  if (totals.byMonth && !monthColumn(plan, totals.byMonth.field)) {
    refuse(
      `count rows by month of ${totals.byMonth.field}, which is not a date field of ${id}`,
      totals.byMonth.field,
      `Count by one of its date fields: ${names(plan.columns.filter((c) => monthColumn(plan, c.name)))}`,
    );
  }
  if (totals.distinctPeople !== undefined && !personColumn(plan)) {
    refuse(
      `count distinct people, but ${id} has no NHS number to count them by`,
      'distinctPeople',
      'Give distinct people only for a dataset with an NHS number',
    );
  }
}
