import { describe, expect, it } from 'vitest';
import { KernelError } from '../errors.ts';
import { funnelLimits, funnelPlot, Z_95, Z_998 } from './funnel.ts';
import { funnelChartSvg } from './funnel-chart-svg.ts';

describe('funnel plot (Spiegelhalter 2005)', () => {
  it('pools the rate and draws binomial limits around it by volume', () => {
    // 4 + 36 events in 1,000 + 9,000: p0 = 0.004
    const result = funnelPlot(
      [
        { id: 'A', numerator: 4, denominator: 1000 },
        { id: 'B', numerator: 36, denominator: 9000 },
      ],
      { polarity: 'lower-is-better', scale: 1000 },
    );
    expect(result.target).toBeCloseTo(4, 10);
    const limits = funnelLimits(0.004, 1000, 1000);
    expect(limits.upper95).toBeCloseTo((0.004 + Z_95 * Math.sqrt((0.004 * 0.996) / 1000)) * 1000, 10);
    expect(limits.upper998).toBeCloseTo((0.004 + Z_998 * Math.sqrt((0.004 * 0.996) / 1000)) * 1000, 10);
    // clamped at zero: the lower 99.8% limit at n = 1000 would be negative
    expect(limits.lower998).toBe(0);
    expect(result.points.map((p) => p.band)).toEqual(['within', 'within']);
    expect(result.curve.length).toBe(40);
    // the limits narrow as volume grows
    const first = result.curve[5];
    const last = result.curve[39];
    expect((last?.upper998 ?? 0) - (last?.lower998 ?? 0)).toBeLessThan(
      (first?.upper998 ?? 0) - (first?.lower998 ?? 0),
    );
  });

  it('flags a provider beyond the 99.8% limits, with its meaning from the polarity', () => {
    const units = [
      { id: 'HIGH', numerator: 40, denominator: 2000 },
      { id: 'B', numerator: 8, denominator: 2000 },
      { id: 'C', numerator: 9, denominator: 2200 },
      { id: 'D', numerator: 7, denominator: 1800 },
    ];
    const lower = funnelPlot(units, { polarity: 'lower-is-better', scale: 1000 });
    const high = lower.points.find((p) => p.id === 'HIGH');
    expect(high?.band).toBe('above-99.8');
    expect(high?.meaning).toBe('concern');
    expect(funnelPlot(units, { polarity: 'higher-is-better', scale: 1000 }).points[0]?.meaning).toBe(
      'improvement',
    );
    expect(funnelPlot(units, { polarity: 'neutral', scale: 1000 }).points[0]?.meaning).toBe('neither');
    expect(lower.points.slice(1).every((p) => p.meaning === null)).toBe(true);
  });

  it('leaves out providers with no denominator, and answers nothing for none at all', () => {
    const result = funnelPlot(
      [
        { id: 'A', numerator: 0, denominator: 0 },
        { id: 'B', numerator: 2, denominator: 100 },
      ],
      { polarity: 'neutral', scale: 100 },
    );
    expect(result.points.map((p) => p.id)).toEqual(['B']);
    expect(result.target).toBeCloseTo(2, 10);
    expect(
      funnelPlot([{ id: 'A', numerator: 0, denominator: 0 }], { polarity: 'neutral', scale: 100 }),
    ).toEqual({
      target: null,
      points: [],
      curve: [],
    });
  });

  it('refuses counts that are not counts', () => {
    for (const unit of [
      { id: 'A', numerator: 5, denominator: 4 },
      { id: 'A', numerator: -1, denominator: 4 },
      { id: 'A', numerator: 1.5, denominator: 4 },
    ]) {
      expect(() => funnelPlot([unit], { polarity: 'neutral', scale: 100 })).toThrow(KernelError);
    }
  });

  it('draws an accessible SVG that says where each provider lies, escaping names', () => {
    const result = funnelPlot(
      [
        { id: 'R<&>', numerator: 40, denominator: 2000 },
        { id: 'B', numerator: 8, denominator: 2000 },
      ],
      { polarity: 'lower-is-better', scale: 1000 },
    );
    const svg = funnelChartSvg({
      id: 'f',
      title: 'Stillbirths',
      target: result.target,
      curve: result.curve,
      points: result.points,
      format: (v) => `${v.toFixed(1)} per 1,000`,
      xTitle: 'Births',
      yTitle: 'Rate per 1,000',
    });
    expect(svg).toContain('role="img"');
    expect(svg).toContain('<title id="f-title">Stillbirths</title>');
    expect(svg).toContain('R&lt;&amp;&gt;: 20.0 per 1,000 from 2,000, above the 99.8% limit');
    expect(svg).not.toContain('R<&>');
    expect(svg).toMatch(/B: 4\.0 per 1,000 from 2,000, (within|above|below)/);
    expect(
      funnelChartSvg({
        ...{ id: 'g', title: 't', target: null, curve: [], points: [] },
        format: String,
        xTitle: 'x',
        yTitle: 'y',
      }),
    ).toContain('No figures to chart');
  });
});
