import { KernelError } from './errors.ts';

/**
 * Reporting months, 'YYYY-MM', read the same way at every entry point: the agent (`kernel
 * deid`), the load, the API's filters and the governance register. It sits at the root, with
 * the errors, because the agent a member installs may import nothing of the warehouse's.
 */

/**
 * The years a month or financial year may fall in. Records of this warehouse start well after
 * 1900 and a plan runs years, not centuries, ahead; the bounds also keep every month, and the
 * month after it, four digits long, so 'YYYY-MM' text sorts and compares as dates do.
 */
export const FIRST_YEAR = 1900;
export const LAST_YEAR = 2999;

/** Whether `text` is a month from FIRST_YEAR-01 to LAST_YEAR-12, exactly 'YYYY-MM'. */
export function isMonth(text: string): boolean {
  const match = /^(\d{4})-(\d{2})$/.exec(text);
  if (!match) return false;
  const year = Number(match[1]);
  const month = Number(match[2]);
  return month >= 1 && month <= 12 && year >= FIRST_YEAR && year <= LAST_YEAR;
}

/** A reporting period, 'YYYY-MM' (trimmed), refused as a usage mistake naming `field` when it is not one. */
export function parsePeriod(raw: string, field = 'period'): string {
  const value = raw.trim();
  if (isMonth(value)) return value;
  const shaped = /^\d{4}-(0[1-9]|1[0-2])$/.test(value);
  throw new KernelError(
    'usage',
    `"${raw}" is not ${shaped ? `a month from ${FIRST_YEAR} to ${LAST_YEAR}` : 'a month'}`,
    {
      where: { field },
      hint: shaped
        ? `Write a month from ${FIRST_YEAR}-01 to ${LAST_YEAR}-12, e.g. 2021-04`
        : 'Write months as YYYY-MM, e.g. 2021-04',
    },
  );
}
