import { describe, expect, it } from 'vitest';
import { isValidNhsNumber, nhsCheckDigit, nhsNumberProblem, testRangeNhsNumber } from './nhs-number.ts';

describe('NHS number', () => {
  // Worked examples from the reference digest §1.3.
  it.each([
    ['9434765919', undefined],
    ['943 476 5919', undefined],
    ['9434765918', 'check-digit'],
    ['4010232137', undefined],
    ['4010232138', 'check-digit'],
    ['1234567890', 'check-digit'],
    ['1111111111', 'repeated-digit'],
    ['0000000000', 'repeated-digit'],
    ['94347659', 'format'],
    ['94347659AB', 'format'],
    ['', 'missing'],
    [null, 'missing'],
  ])('%s → %s', (input, problem) => {
    expect(nhsNumberProblem(input)).toBe(problem);
  });

  it('has no check digit for a stem whose remainder is 1', () => {
    expect(nhsCheckDigit('123456789')).toBeUndefined();
    expect(nhsCheckDigit('999000000')).toBeUndefined();
  });

  it('makes valid 999 test-range numbers only', () => {
    expect(testRangeNhsNumber(1)).toBe('9990000018');
    expect(testRangeNhsNumber(0)).toBeUndefined();
    let made = 0;
    for (let serial = 0; serial < 5000; serial++) {
      const number = testRangeNhsNumber(serial);
      if (number === undefined) continue;
      made++;
      expect(number.startsWith('999')).toBe(true);
      expect(isValidNhsNumber(number)).toBe(true);
    }
    expect(made).toBeGreaterThan(4400);
  });
});
