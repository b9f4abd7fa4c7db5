import { describe, expect, it } from 'vitest';
import { monthEnd } from '../reporting/programme-values.ts';
import { addMonths, financialYearMonths, parseFinancialYear, parsePeriod } from './governance-values.ts';

describe('months and financial years', () => {
  it('refuses a month whose year is outside 1900 to 2999, naming the field', () => {
    for (const raw of ['0000-01', '0999-12', '1899-12', '3000-01', '9999-12']) {
      expect(() => parsePeriod(raw, 'month')).toThrow(
        expect.objectContaining({ code: 'usage', where: { field: 'month' } }),
      );
    }
    expect(parsePeriod('1900-01')).toBe('1900-01');
    expect(parsePeriod('2999-12')).toBe('2999-12');
  });

  it('always writes a month as YYYY-MM', () => {
    expect(addMonths('1000-01', -1)).toBe('0999-12');
    expect(addMonths('2999-12', 1)).toBe('3000-01');
    expect(addMonths('2021-01', -1)).toBe('2020-12');
    expect(monthEnd('2999-12')).toBe('2999-12-31');
    expect(monthEnd('1900-02')).toBe('1900-02-28');
  });

  it('refuses a financial year outside the years a month may fall in', () => {
    for (const raw of ['0000', '9999', '0999/00', '1899/00', '2999/00']) {
      expect(() => parseFinancialYear(raw)).toThrow(
        expect.objectContaining({ code: 'usage', where: { field: 'year' } }),
      );
    }
    expect(parseFinancialYear('1900')).toBe('1900/01');
    expect(parseFinancialYear('2998/99')).toBe('2998/99');
    expect(financialYearMonths('2998/99')).toEqual({ from: '2998-04', to: '2999-03' });
  });
});
