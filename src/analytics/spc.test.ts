import { describe, expect, it } from 'vitest';
import { KernelError } from '../errors.ts';
import { assuranceIcon, describeAssurance, describeIcon, xmrChart, XMR_LIMIT_CONSTANT } from './spc.ts';

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

  it('screens moving ranges above 3.267 × their mean out of the limits', () => {
    // 19 moving ranges of 1 and two of 40 (into and out of the outlier): raw mean MR 4.67,
    // 3.267 × 4.67 = 15.2, so the two ranges of 40 are left out and the mean MR is 1.
    const values = [
      ...Array.from({ length: 10 }, (_, i) => (i % 2 ? 11 : 10)),
      50,
      ...Array.from({ length: 10 }, (_, i) => (i % 2 ? 10 : 11)),
    ];
    const screened = xmrChart(values, { polarity: 'neutral' });
    expect(screened.meanMovingRange).toBeCloseTo(1, 10);
    expect(screened.movingRanges.filter((r) => r === 40 || r === 39)).toHaveLength(2);
    const unscreened = xmrChart(values, { polarity: 'neutral', screenMovingRanges: false });
    expect(unscreened.meanMovingRange).toBeGreaterThan(4);
    // limits 2.66 wide about the mean, not 12: a month of 17 is special cause only when screened
    const probe = [...values.slice(0, 20), 17];
    expect(xmrChart(probe, { polarity: 'neutral' }).points[20]?.rules).toContain('beyond-limit');
    expect(xmrChart(probe, { polarity: 'neutral', screenMovingRanges: false }).points[20]?.rules).toEqual([]);
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

  it('flags a trend of 7 rising or falling points, not 6, and honours trendLength', () => {
    const rising = [10, 9, 11, 10, 11, 12, 13, 14, 15, 16, 11, 10];
    expect(flagged(rising, 'trend')).toEqual([3, 4, 5, 6, 7, 8, 9]);
    const falling = rising.map((v) => 30 - v);
    expect(flagged(falling, 'trend')).toEqual([3, 4, 5, 6, 7, 8, 9]);
    expect(xmrChart(falling, { polarity: 'higher-is-better' }).points[9]?.direction).toBe('low');
    const six = [10, 9, 11, 10, 11, 12, 13, 14, 15, 11, 10];
    expect(flagged(six, 'trend')).toEqual([]);
    expect(xmrChart(six, { polarity: 'neutral', trendLength: 6 }).points[8]?.rules).toContain('trend');
    expect(xmrChart(six, { polarity: 'neutral' }).trendLength).toBe(7);
    expect(() => xmrChart(six, { polarity: 'neutral', trendLength: 1 })).toThrow(KernelError);
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

describe('rebasing at a recorded change', () => {
  // twelve months around 50, then a new pathway: twelve around 80
  const before = [50, 52, 49, 51, 50, 48, 51, 50, 52, 49, 50, 51];
  const after = [80, 82, 79, 81, 80, 78, 81, 80, 82, 79, 80, 81];

  it('takes the mean and limits of each period from its own points, and the chart’s from the latest', () => {
    const result = xmrChart([...before, ...after], { polarity: 'higher-is-better', breaks: [12] });
    expect(result.segments.map((s) => [s.start, s.end])).toEqual([
      [0, 11],
      [12, 23],
    ]);
    expect(result.segments[0]?.mean).toBeCloseTo(50.25, 10);
    expect(result.segments[1]?.mean).toBeCloseTo(80.25, 10);
    expect(result.mean).toBeCloseTo(80.25, 10);
    // no moving range crosses the rebase: the jump of 29 would have widened the limits
    expect(result.movingRanges[12]).toBeNull();
    expect(result.meanMovingRange).toBeCloseTo(
      xmrChart(after, { polarity: 'higher-is-better' }).meanMovingRange ?? NaN,
      10,
    );
    // after rebasing the new level is common cause; unrebased, it is a shift and beyond the limits
    expect(result.points.every((p) => p.rules.length === 0)).toBe(true);
    expect(result.icon).toBe('common-cause');
    const unrebased = xmrChart([...before, ...after], { polarity: 'higher-is-better' });
    expect(unrebased.points[23]?.rules).toContain('shift');
    expect(unrebased.segments).toHaveLength(1);
  });

  it('keeps runs inside their period', () => {
    // four high points before the break and four after: no run of 7 within either period
    const values = [10, 11, 10, 11, 10, 11, 10, 11, 14, 14, 14, 14, 14, 14, 14, 14, 10, 11, 10, 11];
    expect(xmrChart(values, { polarity: 'neutral' }).points[11]?.rules).toContain('shift');
    expect(xmrChart(values, { polarity: 'neutral', breaks: [12] }).points[11]?.rules).not.toContain('shift');
  });

  it('refuses a rebase outside the chart or out of order', () => {
    for (const breaks of [[0], [24], [5, 5], [8, 4], [1.5]]) {
      expect(() => xmrChart([...before, ...after], { polarity: 'neutral', breaks })).toThrow(KernelError);
    }
  });
});

describe('assurance against a target', () => {
  // mean 50.25, mean moving range 21/11, limits about 45.2 and 55.3
  const stable = [50, 52, 49, 51, 50, 48, 51, 50, 52, 49, 50, 51];
  const chart = xmrChart(stable, { polarity: 'higher-is-better' });

  it('passes, hits and misses, or fails by where the target sits against the limits', () => {
    expect(chart.lowerProcessLimit).toBeGreaterThan(44);
    expect(chart.upperProcessLimit).toBeLessThan(57);
    expect(assuranceIcon(chart, 44, 'higher-is-better')).toBe('consistently-passing');
    expect(assuranceIcon(chart, 50, 'higher-is-better')).toBe('hit-and-miss');
    expect(assuranceIcon(chart, 57, 'higher-is-better')).toBe('consistently-failing');
    expect(assuranceIcon(chart, 44, 'lower-is-better')).toBe('consistently-failing');
    expect(assuranceIcon(chart, 57, 'lower-is-better')).toBe('consistently-passing');
    expect(assuranceIcon(chart, chart.lowerProcessLimit, 'higher-is-better')).toBe('hit-and-miss');
  });

  it('gives none without a target, for a neutral measure, or without limits', () => {
    expect(assuranceIcon(chart, null, 'higher-is-better')).toBe('none');
    expect(assuranceIcon(chart, 50, 'neutral')).toBe('none');
    expect(assuranceIcon(xmrChart([50], { polarity: 'higher-is-better' }), 50, 'higher-is-better')).toBe(
      'none',
    );
    expect(describeAssurance('hit-and-miss')).toMatch(/hit and missed/);
  });
});

/** A seeded generator (mulberry32) and normal deviates (Box–Muller), so the figures repeat. */
function normalSource(seed: number): () => number {
  let state = seed;
  const uniform = (): number => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
}

describe('false alarms and detection on simulated processes', () => {
  const CHARTS = 4000;
  const MONTHS = 24;
  /**
   * The rules' design: the four rules applied with the process's true mean and sigma (no
   * estimation) to 24 independent normal points raise a false alarm on 23.4% of charts
   * (simulated, 20,000 charts, seed 17). A chart of monthly points must do no worse.
   */
  const DESIGN_FALSE_ALARM_RATE = 0.234;
  const alarmed = (values: number[]): boolean =>
    xmrChart(values, { polarity: 'neutral' }).points.some((p) => p.rules.length > 0);

  it('gives a stable monthly process no more false alarms per 24-month chart than the design', () => {
    const normal = normalSource(2026);
    let monthly = 0;
    let rolling = 0;
    for (let k = 0; k < CHARTS; k++) {
      const months = Array.from({ length: MONTHS + 2 }, () => 100 + 10 * normal());
      if (alarmed(months.slice(2))) monthly++;
      // the old chart: overlapping rolling 3-month sums of the same months
      if (alarmed(months.slice(2).map((v, i) => v + (months[i] ?? 0) + (months[i + 1] ?? 0)))) rolling++;
    }
    expect(monthly / CHARTS).toBeLessThanOrEqual(DESIGN_FALSE_ALARM_RATE);
    // overlapping windows are not independent points: far more false alarms (why they went)
    expect(rolling / CHARTS).toBeGreaterThan(2 * DESIGN_FALSE_ALARM_RATE);
  });

  it('flags a real shift of 3 sigma within the run length of 7 months', () => {
    const normal = normalSource(17);
    let detected = 0;
    for (let k = 0; k < CHARTS / 4; k++) {
      // 17 stable months, then 7 after a shift of 3 sigma: the month the run length is reached
      const values = Array.from(
        { length: MONTHS },
        (_, i) => 100 + (i >= MONTHS - 7 ? 30 : 0) + 10 * normal(),
      );
      const points = xmrChart(values, { polarity: 'higher-is-better' }).points.slice(MONTHS - 7);
      if (points.some((p) => p.direction === 'high')) detected++;
    }
    expect(detected / (CHARTS / 4)).toBeGreaterThanOrEqual(0.95);
  });
});
