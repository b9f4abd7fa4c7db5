import { describe, expect, it } from 'vitest';
import { exactSum } from './exact-sum.ts';

describe('exactSum', () => {
  it('gives the same total whatever order the values come in', () => {
    // Added as doubles, 0.1 + 0.2 + 0.3 is 0.6000000000000001 but 0.3 + 0.2 + 0.1 is 0.6.
    expect(0.1 + 0.2 + 0.3).not.toBe(0.3 + 0.2 + 0.1);
    expect(exactSum([0.1, 0.2, 0.3], 2)).toBe(0.6);
    expect(exactSum([0.3, 0.2, 0.1], 2)).toBe(0.6);
    expect(exactSum([439_000.57, 933.01], 2)).toBe(439_933.58);
  });

  it('keeps as many places as it is given', () => {
    expect(exactSum([1 / 7, 2 / 7], 6)).toBe(0.428571);
    expect(exactSum([3, 4], 0)).toBe(7);
  });
});
