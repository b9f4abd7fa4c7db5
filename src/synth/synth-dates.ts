/** Calendar arithmetic on whole days since 1970-01-01 (UTC), the synthetic world's clock. */

const MS_PER_DAY = 86_400_000;

export function dayOf(year: number, month: number, day: number): number {
  return Math.floor(Date.UTC(year, month - 1, day) / MS_PER_DAY);
}

/** Day numbers from 1860 to 2130 are formatted once and kept (a run formats the same days over and over). */
const FIRST_CACHED = -40_000;
const formatted: (string | undefined)[] = [];

/** 'YYYY-MM-DD' for a day number. */
export function formatDay(day: number): string {
  const slot = day - FIRST_CACHED;
  let text = slot >= 0 && slot < 100_000 ? formatted[slot] : undefined;
  if (text === undefined) {
    text = new Date(day * MS_PER_DAY).toISOString().slice(0, 10);
    if (slot >= 0 && slot < 100_000) formatted[slot] = text;
  }
  return text;
}

/** 'YYYY-MM-DDTHH:MM:SS' for a day number and minutes after midnight. */
export function formatDateTime(day: number, minutes: number): string {
  const extraDays = Math.floor(minutes / 1440);
  const rest = minutes - extraDays * 1440;
  return `${formatDay(day + extraDays)}T${String(Math.floor(rest / 60)).padStart(2, '0')}:${String(rest % 60).padStart(2, '0')}:00`;
}

export function formatTime(minutes: number): string {
  const rest = ((minutes % 1440) + 1440) % 1440;
  return `${String(Math.floor(rest / 60)).padStart(2, '0')}:${String(rest % 60).padStart(2, '0')}:00`;
}

/** The parts of a day number. */
export function partsOf(day: number): { year: number; month: number; day: number } {
  const date = new Date(day * MS_PER_DAY);
  return { year: date.getUTCFullYear(), month: date.getUTCMonth() + 1, day: date.getUTCDate() };
}

/** Whole years from `birth` to `at` (age last birthday). */
export function ageAt(birth: number, at: number): number {
  const b = partsOf(birth);
  const a = partsOf(at);
  let age = a.year - b.year;
  if (a.month < b.month || (a.month === b.month && a.day < b.day)) age--;
  return age;
}

/** Approximate age in years, for rate tables where a day's precision does not matter. */
export function approximateAge(birth: number, at: number): number {
  return Math.floor((at - birth) / 365.25);
}

export interface Month {
  /** 'YYYY-MM' */
  label: string;
  year: number;
  month: number;
  first: number;
  last: number;
  days: number;
}

export function monthOf(year: number, month: number): Month {
  const first = dayOf(year, month, 1);
  const last = dayOf(year, month + 1, 1) - 1;
  return {
    label: `${year}-${String(month).padStart(2, '0')}`,
    year,
    month,
    first,
    last,
    days: last - first + 1,
  };
}

export function parseMonth(text: string): { year: number; month: number } | undefined {
  const match = /^(\d{4})-(\d{2})$/.exec(text);
  if (!match) return undefined;
  const year = Number(match[1]);
  const month = Number(match[2]);
  if (month < 1 || month > 12 || year < 1900 || year > 2100) return undefined;
  return { year, month };
}

/** Every month from `from` to `to`, both included. */
export function monthsBetween(
  from: { year: number; month: number },
  to: { year: number; month: number },
): Month[] {
  const months: Month[] = [];
  let { year, month } = from;
  while (year < to.year || (year === to.year && month <= to.month)) {
    months.push(monthOf(year, month));
    month++;
    if (month > 12) {
      month = 1;
      year++;
    }
  }
  return months;
}
