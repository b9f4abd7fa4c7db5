/**
 * The person-level model's date (`as_of`): the last day of the latest month of `gp-events`
 * activity loaded. Frailty (src/kid/frailty.ts) and the model (src/kid/person-model.ts) both
 * ask here, so the eFI and the model's other fields describe the same day.
 *
 * The month is the latest `period` of a loaded gp-events feed (every load's manifest names
 * its month), not the latest EVENT_DATE in the rows: a single mistyped future date in one
 * practice's extract would otherwise move the whole model's date.
 */
import type { Queryable } from '../store/store.ts';

/** 'YYYY-MM-DD', or null when no gp-events feed has been loaded. */
export async function modelDate(q: Queryable): Promise<string | null> {
  const rows = await q.query<{ period: string | null }>(
    `SELECT max(period) AS period FROM loads WHERE dataset_id = 'gp-events' AND status = 'loaded'`,
  );
  const period = rows[0]?.period;
  return period ? lastDayOfMonth(String(period)) : null;
}

/** '2020-02' → '2020-02-29'. */
export function lastDayOfMonth(month: string): string {
  const [year, monthNumber] = month.split('-').map(Number);
  // Day 0 of the next month is the last day of this one (ECMA-262 MakeDay rolls it back).
  return new Date(Date.UTC(year ?? 1970, monthNumber ?? 1, 0)).toISOString().slice(0, 10);
}
