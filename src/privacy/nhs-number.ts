/**
 * NHS number checks, per the NHS Data Dictionary NHS NUMBER attribute: ten digits, the
 * tenth a Modulus 11 check digit over the first nine weighted 10 down to 2.
 */

const WEIGHTS = [10, 9, 8, 7, 6, 5, 4, 3, 2] as const;

/** The check digit for a nine-digit stem, or undefined where none exists (remainder 1). */
export function nhsCheckDigit(stem: string): number | undefined {
  if (!/^\d{9}$/.test(stem)) return undefined;
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += (stem.charCodeAt(i) - 48) * (WEIGHTS[i] ?? 0);
  const check = 11 - (sum % 11);
  if (check === 10) return undefined;
  return check === 11 ? 0 : check;
}

/** Removes the spaces and hyphens people write NHS numbers with (`943 476 5919`). */
export function normaliseNhsNumber(raw: string): string {
  return raw.replace(/[\s-]/g, '');
}

export type NhsNumberProblem = 'missing' | 'format' | 'check-digit' | 'repeated-digit';

/**
 * Why an NHS number is unusable, or undefined when it is valid. Repeated-digit numbers
 * (0000000000…9999999999) pass the checksum but are never issued, so Kernel refuses them.
 */
export function nhsNumberProblem(raw: string | null | undefined): NhsNumberProblem | undefined {
  if (raw === null || raw === undefined || raw.trim() === '') return 'missing';
  const value = normaliseNhsNumber(raw);
  if (!/^\d{10}$/.test(value)) return 'format';
  if (/^(\d)\1{9}$/.test(value)) return 'repeated-digit';
  if (nhsCheckDigit(value.slice(0, 9)) !== value.charCodeAt(9) - 48) return 'check-digit';
  return undefined;
}

export function isValidNhsNumber(raw: string | null | undefined): boolean {
  return nhsNumberProblem(raw) === undefined;
}

/**
 * The NHS number in the 999 test range built from a six-digit serial, or undefined where
 * that stem has no check digit (about one in eleven). Synthetic data uses only these, so
 * no synthetic number can be a real patient's.
 */
export function testRangeNhsNumber(serial: number): string | undefined {
  const stem = `999${String(serial).padStart(6, '0')}`;
  if (stem.length !== 9) return undefined;
  const check = nhsCheckDigit(stem);
  return check === undefined ? undefined : `${stem}${check}`;
}
