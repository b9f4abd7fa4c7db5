/**
 * Every maternity measure, driven with simulated stable processes through the dashboard's
 * own series code and funnel plot (spc-simulation.ts): a chart with nothing going on raises
 * an alarm no more often than the rules' design, and a real change is found. `bench/spc`
 * prints the figures.
 */
import { describe, expect, it } from 'vitest';
import { MATERNITY_MEASURES } from './maternity-measures.ts';
import { FUNNEL_DESIGN_RATE, funnelAlarmRate, XMR_DESIGN_RATE, xmrAlarmRate } from './spc-simulation.ts';

const xmr = MATERNITY_MEASURES.filter((m) => m.chart === 'xmr');
const funnel = MATERNITY_MEASURES.filter((m) => m.chart === 'funnel');

describe('false alarms on stable processes, through every measure', () => {
  it.each(xmr.map((m, i) => [m.id, m, i] as const))(
    '%s: no more false alarms per stable 24-month XmR chart than the design (23.4%)',
    (_id, measure, i) => {
      const rate = xmrAlarmRate(measure, 3000, 1000 + i);
      expect(rate, `${measure.id}: ${(rate * 100).toFixed(1)}%`).toBeLessThanOrEqual(XMR_DESIGN_RATE);
    },
  );

  it.each(funnel.map((m, i) => [m.id, m, i] as const))(
    '%s: a stable funnel of four providers flags close to the design rate (0.8%)',
    (_id, measure, i) => {
      // the normal approximation is a little generous in the tails at 30 to 130 events
      expect(funnelAlarmRate(measure, 4000, 2000 + i)).toBeLessThanOrEqual(FUNNEL_DESIGN_RATE * 2.5);
    },
  );

  it('finds a real change: a 3-sigma shift within the 7-month run length, a provider at twice the rate', () => {
    const pph = MATERNITY_MEASURES.find((m) => m.id === 'pph-1500')!;
    // 17 stable months, then 7 at 1.5 × the rate (3% → 4.5%, about 3 sigma of a month)
    expect(xmrAlarmRate(pph, 400, 7, { at: 17, by: 0.5 })).toBeGreaterThanOrEqual(0.95);
    const stillbirths = MATERNITY_MEASURES.find((m) => m.id === 'stillbirth-rate')!;
    expect(funnelAlarmRate(stillbirths, 1000, 5, 2)).toBeGreaterThanOrEqual(0.9);
  });
});

describe('a funnel under disclosure control', () => {
  it('shows window totals rounded, hides a small one and does not place it', async () => {
    const { buildFunnel } = await import('./maternity-dashboard.ts');
    const { HES_2018 } = await import('./disclosure-control.ts');
    const stillbirths = MATERNITY_MEASURES.find((m) => m.id === 'stillbirth-rate')!;
    const months = (counts: [number, number][]) =>
      new Map(counts.map(([numerator, denominator], i) => [i, { numerator, denominator }]));
    const byOrg = new Map([
      [
        'RWF',
        months([
          [6, 900],
          [7, 880],
          [3, 910],
        ]),
      ], // 16 of 2,690
      [
        'RVV',
        months([
          [1, 400],
          [2, 390],
          [0, 405],
        ]),
      ], // 3 of 1,195: hidden
      [
        'RPA',
        months([
          [30, 700],
          [28, 690],
          [31, 720],
        ]),
      ], // 89 of 2,110: far above
    ]);
    const viewer = { role: 'analyst', org: null };
    const funnel = buildFunnel(stillbirths, byOrg, ['RWF', 'RVV', 'RPA'], 0, 2, viewer, HES_2018)!;
    const row = (org: string) => funnel.providers.find((p) => p.org === org)!;
    expect([row('RWF').numerator, row('RWF').denominator]).toEqual([15, 2690]);
    expect([row('RVV').numerator, row('RVV').value, row('RVV').band]).toEqual(['*', '*', null]);
    expect(row('RPA').band).toBe('above-99.8');
    expect(row('RPA').meaning).toBe('concern');
    // the pooled rate (108 of 5,995 = 18.01 per 1,000) is shown to one decimal place
    expect(funnel.target).toBe(18);
    expect(funnel.curve.length).toBeGreaterThan(10);
  });
});
