import { describe, expect, it } from 'vitest';
import { describeIcon, xmrChart, XMR_LIMIT_CONSTANT } from './spc.ts';

/** Indexes of points a rule flagged. */
function flagged(
  values: (number | null)[],
  rule: string,
  options = { polarity: 'higher-is-better' as const },
): number[] {
  return xmrChart(values, options)
    .points.map((p, i) => (p.rules.includes(rule as never) ? i : -1))
    .filter((i) => i >= 0);
}

describe('XmR arithmetic', () => {
  it('computes the mean, moving ranges and limits as Making Data Count does', () => {
    const result = xmrChart([10, 12, 11, 13, 12], { polarity: 'neutral' });
    // mean = 58 / 5; moving ranges 2, 1, 2, 1 → mean 1.5
    expect(result.mean).toBeCloseTo(11.6, 10);
    expect(result.movingRanges).toEqual([null, 2, 1, 2, 1]);
    expect(result.meanMovingRange).toBeCloseTo(1.5, 10);
    expect(result.upperProcessLimit).toBeCloseTo(11.6 + 2.66 * 1.5, 10);
    expect(result.lowerProcessLimit).toBeCloseTo(11.6 - 2.66 * 1.5, 10);
    expect(result.upperTwoSigma).toBeCloseTo(11.6 + (2 / 3) * 2.66 * 1.5, 10);
    expect(XMR_LIMIT_CONSTANT).toBe(2.66);
    expect(result.fewPoints).toBe(true);
  });

  it('skips moving ranges across a gap and leaves gaps unflagged', () => {
    const result = xmrChart([10, null, 14, 15], { polarity: 'neutral' });
    expect(result.movingRanges).toEqual([null, null, null, 1]);
    expect(result.mean).toBeCloseTo(13, 10);
    expect(result.points[1]).toEqual({ value: null, rules: [], direction: null, meaning: null });
  });

  it('answers nothing for an empty series', () => {
    const result = xmrChart([null, null], { polarity: 'neutral' });
    expect(result.mean).toBeNull();
    expect(result.icon).toBe('none');
  });
});

describe('special-cause rules', () => {
  it('flags a point beyond the upper or lower process limit', () => {
    const base = [50, 52, 49, 51, 50, 48, 51, 50, 52, 49, 50, 51];
    expect(flagged([...base, 70], 'beyond-limit')).toEqual([12]);
    expect(flagged([...base, 30], 'beyond-limit')).toEqual([12]);
    expect(flagged(base, 'beyond-limit')).toEqual([]);
  });

  it('flags a shift of 7 points on one side of the mean, and not 6', () => {
    const seven = [4, 6, 4, 6, 4, 6, 4, 7, 7, 7.5, 7, 7, 7.5, 7, 4, 6, 4, 6, 4, 6, 4];
    const result = xmrChart(seven, { polarity: 'higher-is-better' });
    const mean = result.mean ?? 0;
    const above = seven.map((v, i) => (v > mean ? i : -1)).filter((i) => i >= 0);
    expect(above).toEqual([1, 3, 5, 7, 8, 9, 10, 11, 12, 13, 15, 17, 19]);
    expect(flagged(seven, 'shift')).toEqual([7, 8, 9, 10, 11, 12, 13]);
    expect(result.points[7]?.direction).toBe('high');
    expect(result.points[7]?.meaning).toBe('improvement');
    // the 6th point (index 5) sits above the mean too, but a 4 below breaks the run
    const six = [4, 6, 4, 6, 4, 6, 4, 7, 7, 7.5, 7, 7, 7.5, 4, 6, 4, 6, 4, 6, 4];
    expect(flagged(six, 'shift')).toEqual([]);
  });

  it('lets a point exactly on the mean break a shift', () => {
    // mean is exactly 5: the 4th high point sits on it
    const values = [6, 6, 6, 5, 6, 6, 6, 4, 4, 4, 4, 4, 4, 5];
    const result = xmrChart(values, { polarity: 'neutral' });
    expect(result.mean).toBe(5);
    expect(flagged(values, 'shift')).toEqual([]);
    expect(xmrChart(values, { polarity: 'neutral', shiftLength: 6 }).points[12]?.rules).toContain('shift');
  });

  it('flags a trend of 6 rising or falling points, not 5, and honours trendLength', () => {
    const rising = [10, 9, 11, 10, 11, 12, 13, 14, 15, 11, 10];
    expect(flagged(rising, 'trend')).toEqual([3, 4, 5, 6, 7, 8]);
    const falling = rising.map((v) => 30 - v);
    expect(flagged(falling, 'trend')).toEqual([3, 4, 5, 6, 7, 8]);
    expect(xmrChart(falling, { polarity: 'higher-is-better' }).points[8]?.direction).toBe('low');
    const five = [10, 9, 11, 10, 11, 12, 13, 14, 11, 10];
    expect(flagged(five, 'trend')).toEqual([]);
    expect(
      xmrChart(rising, { polarity: 'neutral', trendLength: 7 }).points.some((p) => p.rules.includes('trend')),
    ).toBe(false);
  });

  it('lets a repeated value break a trend', () => {
    expect(flagged([1, 2, 3, 3, 4, 5, 6], 'trend')).toEqual([]);
  });

  it('flags two of three points beyond the same 2-sigma line, but not on opposite sides', () => {
    const base = Array.from({ length: 20 }, (_, i) => (i % 2 ? 51 : 50));
    const high = [...base, 53.5, 50.5, 53.6];
    const result = xmrChart(high, { polarity: 'higher-is-better' });
    // both points sit between the 2-sigma line and the process limit: only this rule fires
    for (const v of [53.5, 53.6]) {
      expect(v).toBeGreaterThan(result.upperTwoSigma ?? Infinity);
      expect(v).toBeLessThan(result.upperProcessLimit ?? -Infinity);
    }
    expect(flagged(high, 'two-of-three')).toEqual([20, 22]);
    expect(result.points.flatMap((p) => p.rules)).toEqual(['two-of-three', 'two-of-three']);
    expect(result.icon).toBe('improvement-high');
    expect(flagged([...base, 53.5, 50.5, 47.5], 'two-of-three')).toEqual([]);
    expect(flagged([...base, 53.5, 50.5, 50.5, 53.6], 'two-of-three')).toEqual([]);
  });
});

describe('variation icon', () => {
  const up = [50, 51, 49, 50, 51, 49, 50, 51, 49, 50, 51, 49, 70];
  it('reads improvement or concern from the latest point and the polarity', () => {
    expect(xmrChart(up, { polarity: 'higher-is-better' }).icon).toBe('improvement-high');
    expect(xmrChart(up, { polarity: 'lower-is-better' }).icon).toBe('concern-high');
    expect(xmrChart(up, { polarity: 'neutral' }).icon).toBe('neither-high');
    const down = up.map((v) => 100 - v);
    expect(xmrChart(down, { polarity: 'higher-is-better' }).icon).toBe('concern-low');
    expect(xmrChart(down, { polarity: 'lower-is-better' }).icon).toBe('improvement-low');
  });

  it('shows common cause when the latest point is unremarkable, even after an earlier signal', () => {
    const values = [50, 51, 49, 70, 50, 51, 49, 52, 51, 53, 52, 51];
    const result = xmrChart(values, { polarity: 'higher-is-better' });
    expect(result.points[3]?.meaning).toBe('improvement');
    expect(result.icon).toBe('common-cause');
    expect(describeIcon(result.icon)).toMatch(/common cause/i);
  });
});
