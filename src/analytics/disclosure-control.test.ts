import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { KernelError } from '../errors.ts';
import {
  checkPolicy,
  controlCount,
  controlRate,
  describePolicy,
  HES_2018,
  NO_DISCLOSURE_CONTROL,
  policyFor,
} from './disclosure-control.ts';

describe('HES 2018 counts (reference §10)', () => {
  it('shows 0, suppresses 1–7 and rounds the rest to the nearest 5', () => {
    expect(controlCount(0, HES_2018)).toBe(0);
    for (let n = 1; n <= 7; n++) expect(controlCount(n, HES_2018)).toBe('*');
    expect(controlCount(8, HES_2018)).toBe(10);
    expect(controlCount(12, HES_2018)).toBe(10);
    expect(controlCount(13, HES_2018)).toBe(15);
    expect(controlCount(1002, HES_2018)).toBe(1000);
    expect(controlCount(1003, HES_2018)).toBe(1005);
  });

  it('rounds every count above the threshold to within half a base of itself', () => {
    fc.assert(
      fc.property(fc.integer({ min: 8, max: 1_000_000 }), (n) => {
        const shown = controlCount(n, HES_2018);
        return typeof shown === 'number' && shown % 5 === 0 && Math.abs(shown - n) <= 2;
      }),
    );
  });

  it('takes a configurable threshold and base, rounding halves up', () => {
    const policy = checkPolicy({ id: 'hes2018', threshold: 9, base: 10 });
    expect(controlCount(9, policy)).toBe('*');
    expect(controlCount(10, policy)).toBe(10);
    expect(controlCount(15, policy)).toBe(20);
    expect(controlCount(14, policy)).toBe(10);
  });

  it('refuses a nonsensical policy with a clear error', () => {
    expect(() => checkPolicy({ id: 'hes2018', threshold: -1, base: 5 })).toThrow(KernelError);
    expect(() => checkPolicy({ id: 'hes2018', threshold: 7, base: 0 })).toThrow(/rounding base/);
  });
});

describe('HES 2018 rates', () => {
  it('computes a percentage from the rounded numerator and denominator', () => {
    // unrounded 12 / 53 = 22.6%; rounded 10 / 55 = 18.2% → 18 (no decimal under 4,000)
    expect(controlRate(12, 53, 'percent', HES_2018)).toEqual({
      numerator: 10,
      denominator: 55,
      value: 18,
      decimals: 0,
    });
  });

  it('suppresses a rate when either count is suppressed', () => {
    expect(controlRate(3, 120, 'percent', HES_2018).value).toBe('*');
    expect(controlRate(3, 5, 'per-1000', HES_2018)).toMatchObject({
      numerator: '*',
      denominator: '*',
      value: '*',
    });
    expect(controlRate(0, 120, 'percent', HES_2018)).toMatchObject({
      numerator: 0,
      denominator: 120,
      value: 0,
    });
  });

  it('earns a decimal place only from a rounded denominator of 4,000 (per cent) or 40,000 (per 1,000)', () => {
    expect(controlRate(1234, 4001, 'percent', HES_2018)).toEqual({
      numerator: 1235,
      denominator: 4000,
      value: 30.9,
      decimals: 1,
    });
    expect(controlRate(1234, 3996, 'percent', HES_2018).decimals).toBe(0);
    expect(controlRate(53, 3996, 'per-1000', HES_2018)).toEqual({
      numerator: 55,
      denominator: 3995,
      value: 14,
      decimals: 0,
    });
  });

  it('leaves a provider’s own figures unrounded', () => {
    expect(controlRate(3, 7, 'percent', NO_DISCLOSURE_CONTROL)).toEqual({
      numerator: 3,
      denominator: 7,
      value: 42.9,
      decimals: 1,
    });
    expect(controlRate(0, 0, 'percent', NO_DISCLOSURE_CONTROL).value).toBeNull();
  });

  it('controls a count measure as a count', () => {
    expect(controlRate(6, 6, 'count', HES_2018).value).toBe('*');
    expect(controlRate(123, 123, 'count', HES_2018).value).toBe(125);
  });
});

describe('who is exempt', () => {
  it('exempts only a provider viewing its own organisation', () => {
    expect(policyFor({ role: 'provider', org: 'RWF' }, 'RWF')).toBe(NO_DISCLOSURE_CONTROL);
    expect(policyFor({ role: 'provider', org: 'RWF' }, 'RVV')).toBe(HES_2018);
    expect(policyFor({ role: 'provider', org: 'RWF' }, undefined)).toBe(HES_2018);
    for (const role of ['admin', 'analyst', 'ig-lead', 'viewer']) {
      expect(policyFor({ role, org: 'RWF' }, 'RWF')).toBe(HES_2018);
    }
    expect(policyFor({ role: 'provider', org: null }, undefined)).toBe(HES_2018);
  });

  it('states the rule in words', () => {
    expect(describePolicy(HES_2018)).toMatch(/1 to 7 are shown as \*.*nearest 5/);
    expect(describePolicy(NO_DISCLOSURE_CONTROL)).toMatch(/own figures/);
  });
});
