import { describe, expect, it } from 'vitest';
import type { KernelError } from './errors.ts';
import { isMonth, parsePeriod } from './months.ts';

describe('months', () => {
  it('are YYYY-MM from 1900-01 to 2999-12, exactly', () => {
    for (const month of ['1900-01', '2021-04', '2999-12']) expect(isMonth(month), month).toBe(true);
    for (const text of [
      '0000-01',
      '1899-12',
      '3000-01',
      '2021-13',
      '2021-00',
      '2021-4',
      ' 2021-04',
      '2021-04-01',
    ])
      expect(isMonth(text), text).toBe(false);
  });

  it('are refused by the field they came in, with how to write one', () => {
    expect(parsePeriod(' 2021-04 ')).toBe('2021-04');
    const refusal = (raw: string): KernelError => {
      try {
        parsePeriod(raw, 'period');
      } catch (error) {
        return error as KernelError;
      }
      throw new Error(`${raw} was taken`);
    };
    expect(refusal('2021-13')).toMatchObject({
      code: 'usage',
      message: '"2021-13" is not a month',
      where: { field: 'period' },
      hint: 'Write months as YYYY-MM, e.g. 2021-04',
    });
    expect(refusal('0000-01')).toMatchObject({
      message: '"0000-01" is not a month from 1900 to 2999',
      hint: 'Write a month from 1900-01 to 2999-12, e.g. 2021-04',
    });
  });
});
