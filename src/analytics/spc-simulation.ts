/**
 * Simulated stable (and shifted) processes for the maternity measures' charts, used by the
 * simulation test and by `bench/spc`, which prints the figures: how often a chart with
 * nothing going on raises an alarm, measure by measure, through the dashboard's own series
 * code (`buildSeries`) and funnel plot.
 *
 * Stable here is a Kent and Medway-sized month: 1,200 in each denominator, a rate of 25%
 * for a percentage and 3% for a rate per 1,000 (births, a count, vary as a Poisson of mean
 * 1,200 would); for a funnel, four providers of 300 to 1,400 a month over 24 months at a
 * rare event's 4 per 1,000.
 */
import { NO_DISCLOSURE_CONTROL, unitScale } from './disclosure-control.ts';
import { funnelPlot } from './funnel.ts';
import { buildSeries, type MonthCounts } from './maternity-dashboard.ts';
import type { MaternityMeasure } from './maternity-measures.ts';

/** A seeded uniform generator (mulberry32), so the figures repeat. */
export function uniformSource(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A binomial draw: exact by inversion for small n·p, normal with rounding otherwise. */
export function binomial(uniform: () => number, n: number, p: number): number {
  if (n * p < 30) {
    let k = 0;
    let prob = (1 - p) ** n;
    let cumulative = prob;
    const u = uniform();
    while (u > cumulative && k < n) {
      prob *= ((n - k) / (k + 1)) * (p / (1 - p));
      k++;
      cumulative += prob;
    }
    return k;
  }
  const z = Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
  return Math.min(n, Math.max(0, Math.round(n * p + z * Math.sqrt(n * p * (1 - p)))));
}

export const SIMULATED_MONTHS = 24;
/** The four rules' design false-alarm rate for a 24-month chart (spc.test.ts). */
export const XMR_DESIGN_RATE = 0.234;
/** One provider in four beyond a 99.8% limit by chance. */
export const FUNNEL_DESIGN_RATE = 1 - 0.998 ** 4;
const FUNNEL_SIZES = [300, 500, 800, 1400].map((monthly) => monthly * SIMULATED_MONTHS);
const RARE_RATE = 0.004;

/**
 * The share of stable 24-month charts of `measure` that show any special cause. `shiftAt`
 * moves the rate (by `shiftBy`, relative) from that month on, to measure detection instead.
 */
export function xmrAlarmRate(
  measure: MaternityMeasure,
  charts: number,
  seed: number,
  shift?: { at: number; by: number },
): number {
  const uniform = uniformSource(seed);
  const rate = measure.unit === 'percent' ? 0.25 : 0.03;
  let alarmed = 0;
  for (let chart = 0; chart < charts; chart++) {
    const byMonth: MonthCounts = new Map();
    const submitted = new Map<number, true>();
    for (let i = 0; i < SIMULATED_MONTHS; i++) {
      const factor = shift && i >= shift.at ? 1 + shift.by : 1;
      const numerator =
        measure.unit === 'count'
          ? binomial(uniform, 2400, 0.5 * factor)
          : binomial(uniform, 1200, rate * factor);
      byMonth.set(i, { numerator, denominator: 1200 });
      submitted.set(i, true);
    }
    const series = buildSeries(measure, {
      org: null,
      byMonth,
      quality: undefined,
      submitted,
      from: 0,
      to: SIMULATED_MONTHS - 1,
      policy: NO_DISCLOSURE_CONTROL,
      rebases: [],
      target: null,
    });
    const points = shift ? series.points.slice(shift.at) : series.points;
    if (points.some((p) => p.rules.length > 0)) alarmed++;
  }
  return alarmed / charts;
}

/**
 * The share of stable windows on which a funnel of four providers flags one beyond the
 * 99.8% limits; with `raised`, the share on which provider P2, whose rate is `raised`×, is
 * flagged as it should be.
 */
export function funnelAlarmRate(
  measure: MaternityMeasure,
  windows: number,
  seed: number,
  raised?: number,
): number {
  const uniform = uniformSource(seed);
  let alarmed = 0;
  for (let k = 0; k < windows; k++) {
    const units = FUNNEL_SIZES.map((n, i) => ({
      id: `P${i}`,
      denominator: n,
      numerator: binomial(uniform, n, RARE_RATE * (raised !== undefined && i === 2 ? raised : 1)),
    }));
    const plot = funnelPlot(units, { polarity: measure.polarity, scale: unitScale(measure.unit) });
    const flagged =
      raised === undefined
        ? plot.points.some((p) => p.band === 'above-99.8' || p.band === 'below-99.8')
        : plot.points.find((p) => p.id === 'P2')?.band === 'above-99.8';
    if (flagged) alarmed++;
  }
  return alarmed / windows;
}
