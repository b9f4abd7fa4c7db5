/**
 * A funnel plot (Spiegelhalter, "Funnel plots for comparing institutional performance",
 * Statistics in Medicine 24:1185–1202, 2005): each provider's rate over a period against
 * its volume, with control limits around the pooled rate that narrow as volume grows.
 *
 * Why: for rare events (stillbirths, 3rd/4th-degree tears, low Apgar scores, neonatal
 * deaths) a provider sees a handful a month, so an XmR chart of monthly rates swings
 * between 0 and large values and its limits mean little. Making Data Count points to
 * charts made for rare events; a funnel plot compares providers over the whole window
 * without drawing single events (which a g-chart or t-chart would date, and disclosure
 * control forbids).
 *
 * Arithmetic, for a proportion: p0 = Σ numerators / Σ denominators (the pooled rate);
 * the limits at volume n are p0 ± z · √(p0 (1 − p0) / n), by the normal approximation to
 * the binomial, with z = 1.96 (95%, "warning") and z = 3.09 (99.8%, "control"), clamped to
 * [0, 1]. A provider beyond a 99.8% limit shows special-cause variation; its meaning
 * follows the measure's polarity, as on the XmR chart. Values are scaled (× 100 for a
 * percentage, × 1,000 per 1,000).
 */
import { KernelError } from '../errors.ts';
import type { Polarity } from './spc.ts';

/** Two-sided 95% and 99.8% points of the standard normal distribution. */
export const Z_95 = 1.959964;
export const Z_998 = 3.090232;

export interface FunnelUnit {
  id: string;
  numerator: number;
  denominator: number;
}

export interface FunnelOptions {
  polarity: Polarity;
  /** 100 for a percentage, 1000 for a rate per 1,000 */
  scale: number;
}

export const FUNNEL_BANDS = ['within', 'above-95', 'below-95', 'above-99.8', 'below-99.8'] as const;
export type FunnelBand = (typeof FUNNEL_BANDS)[number];

export interface FunnelPoint {
  id: string;
  numerator: number;
  denominator: number;
  /** the rate × scale */
  value: number;
  band: FunnelBand;
  /** improvement, concern or neither beyond the 99.8% limits; null within them */
  meaning: 'improvement' | 'concern' | 'neither' | null;
}

export interface FunnelLimits {
  lower95: number;
  upper95: number;
  lower998: number;
  upper998: number;
}

export interface FunnelResult {
  /** the pooled rate × scale, or null with no denominator at all */
  target: number | null;
  points: FunnelPoint[];
  /** the limits at a few dozen volumes from 1 to past the largest, for drawing */
  curve: (FunnelLimits & { denominator: number })[];
}

/** The limits (× scale) around a proportion `p0` at volume `n`. */
export function funnelLimits(p0: number, n: number, scale: number): FunnelLimits {
  const spread = Math.sqrt((p0 * (1 - p0)) / n);
  const at = (z: number): number => Math.min(1, Math.max(0, p0 + z * spread)) * scale;
  return { lower95: at(-Z_95), upper95: at(Z_95), lower998: at(-Z_998), upper998: at(Z_998) };
}

const CURVE_POINTS = 40;

export function funnelPlot(units: readonly FunnelUnit[], options: FunnelOptions): FunnelResult {
  for (const unit of units) {
    const { numerator: k, denominator: n } = unit;
    if (!Number.isInteger(k) || !Number.isInteger(n) || k < 0 || n < 0 || k > n) {
      throw new KernelError(
        'config',
        `A funnel plot needs whole counts with the numerator no more than the denominator, not ${k} of ${n} for ${unit.id}`,
        { where: { field: unit.id }, hint: 'Count events (numerator) among cases (denominator)' },
      );
    }
  }
  if (!(options.scale > 0)) {
    throw new KernelError('config', `The scale must be positive, not ${options.scale}`, {
      where: { field: 'scale' },
    });
  }
  const counted = units.filter((u) => u.denominator > 0);
  const total = counted.reduce((sum, u) => sum + u.denominator, 0);
  if (total === 0) return { target: null, points: [], curve: [] };
  const p0 = counted.reduce((sum, u) => sum + u.numerator, 0) / total;
  const points = counted.map((unit): FunnelPoint => {
    const value = (unit.numerator / unit.denominator) * options.scale;
    const limits = funnelLimits(p0, unit.denominator, options.scale);
    const band: FunnelBand =
      value > limits.upper998
        ? 'above-99.8'
        : value < limits.lower998
          ? 'below-99.8'
          : value > limits.upper95
            ? 'above-95'
            : value < limits.lower95
              ? 'below-95'
              : 'within';
    const high = band === 'above-99.8';
    const special = high || band === 'below-99.8';
    const meaning = !special
      ? null
      : options.polarity === 'neutral'
        ? 'neither'
        : high === (options.polarity === 'higher-is-better')
          ? 'improvement'
          : 'concern';
    return { ...unit, value, band, meaning };
  });
  // Log-spaced volumes, so the curve's narrow end is drawn as finely as its wide one.
  const largest = Math.max(...counted.map((u) => u.denominator)) * 1.1;
  const curve = Array.from({ length: CURVE_POINTS }, (_, i) => {
    const denominator = Math.exp((Math.log(Math.max(largest, 2)) * i) / (CURVE_POINTS - 1));
    return { denominator, ...funnelLimits(p0, denominator, options.scale) };
  });
  return { target: p0 * options.scale, points, curve };
}
