/**
 * Statistical process control: the XmR (individuals and moving range) chart in the NHS
 * "Making Data Count" (MDC) style (NHS England / NHS Improvement, "Making Data Count:
 * strengthening your decisions", 2019; the NHS-R community's NHSRplotthedots package is
 * the reference implementation the arithmetic below follows).
 *
 * - mean: the mean of the points shown;
 * - moving range: |x(i) − x(i−1)| between neighbouring months that both have a value;
 * - moving-range screening: moving ranges above 3.267 × the mean moving range (3.267 = D4,
 *   the upper range limit for n = 2) are left out and the mean moving range taken again
 *   from the rest, so one wild month does not widen the limits (NHSRplotthedots
 *   `screen_outliers`, on by default); screening can be turned off with `screenMovingRanges`;
 * - process limits: mean ± 2.66 × mean moving range (2.66 = 3 / d2, d2 = 1.128 for n = 2);
 * - the "2 sigma" lines used by the two-in-three rule: mean ± (2/3) × 2.66 × mean moving range.
 *
 * Special-cause rules, each stated with the length used:
 * 1. a point beyond a process limit;
 * 2. a shift: `shiftLength` (7) or more consecutive points all above, or all below, the
 *    mean (MDC: "7 or more consecutive points above or below the average"); a point exactly
 *    on the mean breaks the run;
 * 3. a trend: `trendLength` (7) or more consecutive points each higher, or each lower, than
 *    the one before (NHSRplotthedots and MDC's published tools use 7; earlier material used 6,
 *    which raises false alarms); an equal value breaks it;
 * 4. two of three consecutive points beyond the same 2-sigma line (Western Electric rule 2,
 *    MDC "two out of three points close to a process limit"); the points beyond it are flagged.
 * Every point in a qualifying shift or trend is flagged, not only the last.
 *
 * A flagged point is high or low: beyond-limit, shift and two-in-three by its side of the
 * mean; trend by the trend's direction. Where rules disagree, the first in the list above
 * wins. The variation icon describes the latest point, as MDC's icons do.
 *
 * Rebasing: at a recorded change in the process (a new pathway, a new definition), MDC
 * recalculates the limits from that point on. `breaks` lists the points where a new period
 * begins; each period has its own mean, moving ranges and limits, no moving range or run
 * crosses a break, and the figures of the latest period are the chart's.
 *
 * Assurance (`assuranceIcon`): against a target, the latest period's process limits say
 * whether the process will consistently pass it (both limits on the right side), hit and
 * miss it (the target between the limits), or consistently fail it.
 */

import { KernelError } from '../errors.ts';

export const POLARITIES = ['higher-is-better', 'lower-is-better', 'neutral'] as const;
export type Polarity = (typeof POLARITIES)[number];

export const SPECIAL_CAUSE_RULES = ['beyond-limit', 'shift', 'trend', 'two-of-three'] as const;
export type SpecialCauseRule = (typeof SPECIAL_CAUSE_RULES)[number];

export const VARIATION_ICONS = [
  'common-cause',
  'improvement-high',
  'improvement-low',
  'concern-high',
  'concern-low',
  'neither-high',
  'neither-low',
  'none',
] as const;
export type VariationIcon = (typeof VARIATION_ICONS)[number];

export interface SpcOptions {
  polarity: Polarity;
  /** points in a run on one side of the mean that make a shift (MDC: 7) */
  shiftLength?: number;
  /** consecutive rising or falling points that make a trend (MDC: 7) */
  trendLength?: number;
  /** leave moving ranges above 3.267 × their mean out of the limits (default true) */
  screenMovingRanges?: boolean;
  /** indexes of the points where a new period begins (a rebase), in increasing order */
  breaks?: readonly number[];
}

/** One period of a rebased chart: points start…end (inclusive) and their own limits. */
export interface SpcSegment {
  start: number;
  end: number;
  mean: number | null;
  meanMovingRange: number | null;
  upperProcessLimit: number | null;
  lowerProcessLimit: number | null;
}

export interface SpcPoint {
  /** the value, or null where there is none (no data, or suppressed) */
  value: number | null;
  /** the rules this point is part of */
  rules: SpecialCauseRule[];
  /** the side a special cause points to, or null for common cause or no value */
  direction: 'high' | 'low' | null;
  /** improvement, concern or neither (neutral measures), or null for common cause */
  meaning: 'improvement' | 'concern' | 'neither' | null;
}

export interface SpcResult {
  mean: number | null;
  meanMovingRange: number | null;
  upperProcessLimit: number | null;
  lowerProcessLimit: number | null;
  upperTwoSigma: number | null;
  lowerTwoSigma: number | null;
  /** moving range per point (null for the first point and after a gap) */
  movingRanges: (number | null)[];
  points: SpcPoint[];
  icon: VariationIcon;
  /** the lengths actually used, to state on the output */
  shiftLength: number;
  trendLength: number;
  /** MDC advises at least 15 points before limits are relied on (in the latest period) */
  fewPoints: boolean;
  /** the periods, one unless the chart was rebased; the chart's own figures are the last's */
  segments: SpcSegment[];
}

/** The MDC XmR limit constant: 3 / d2 with d2 = 1.128 for moving ranges of two points. */
export const XMR_LIMIT_CONSTANT = 2.66;
/** D4 for ranges of two points: moving ranges above this × their mean are screened out. */
export const MOVING_RANGE_SCREEN_CONSTANT = 3.267;
/** The run lengths MDC's published tools use, for shifts and for trends. */
export const DEFAULT_RUN_LENGTH = 7;
const MIN_POINTS_FOR_RELIABLE_LIMITS = 15;

export function xmrChart(values: readonly (number | null)[], options: SpcOptions): SpcResult {
  const breaks = [...(options.breaks ?? [])];
  breaks.forEach((b, i) => {
    if (!Number.isInteger(b) || b <= 0 || b >= values.length || (i > 0 && b <= (breaks[i - 1] ?? 0))) {
      throw new KernelError(
        'config',
        `A rebase must fall inside the chart, after its first point and in order, not at point ${b} of ${values.length}`,
        { where: { field: 'breaks' }, hint: 'Give each rebase as the first month of its new period' },
      );
    }
  });
  if (breaks.length === 0) return onePeriod(values, options);
  const starts = [0, ...breaks];
  const periods = starts.map((start, i) => {
    const end = (starts[i + 1] ?? values.length) - 1;
    return { start, result: onePeriod(values.slice(start, end + 1), options) };
  });
  const latest = periods[periods.length - 1]?.result as SpcResult;
  const points = periods.flatMap((p) => p.result.points);
  let last: SpcPoint | undefined;
  for (let i = points.length - 1; i >= 0 && last === undefined; i--) {
    if (points[i]?.value !== null) last = points[i];
  }
  return {
    ...latest,
    movingRanges: periods.flatMap((p) => p.result.movingRanges),
    points,
    icon: iconFor(last),
    segments: periods.map((p) => ({
      ...(p.result.segments[0] as SpcSegment),
      start: p.start,
      end: p.start + (p.result.points.length - 1),
    })),
  };
}

function onePeriod(values: readonly (number | null)[], options: SpcOptions): SpcResult {
  const shiftLength = options.shiftLength ?? DEFAULT_RUN_LENGTH;
  const trendLength = options.trendLength ?? DEFAULT_RUN_LENGTH;
  if (
    !Number.isInteger(shiftLength) ||
    shiftLength < 2 ||
    !Number.isInteger(trendLength) ||
    trendLength < 2
  ) {
    throw new KernelError(
      'config',
      `SPC run lengths must be whole numbers of at least 2, not shift ${shiftLength} and trend ${trendLength}`,
      { where: { field: 'shiftLength, trendLength' }, hint: 'Making Data Count uses 7 for both' },
    );
  }
  const present = values.filter((v): v is number => v !== null && Number.isFinite(v));
  const movingRanges: (number | null)[] = values.map((v, i) => {
    const previous = i > 0 ? values[i - 1] : null;
    return v === null || previous === null || previous === undefined ? null : Math.abs(v - previous);
  });
  const ranges = movingRanges.filter((r): r is number => r !== null);
  const empty: SpcPoint[] = values.map((value) => ({ value, rules: [], direction: null, meaning: null }));
  if (present.length === 0) {
    return {
      mean: null,
      meanMovingRange: null,
      upperProcessLimit: null,
      lowerProcessLimit: null,
      upperTwoSigma: null,
      lowerTwoSigma: null,
      movingRanges,
      points: empty,
      icon: 'none',
      shiftLength,
      trendLength,
      fewPoints: true,
      segments: [
        {
          start: 0,
          end: values.length - 1,
          mean: null,
          meanMovingRange: null,
          upperProcessLimit: null,
          lowerProcessLimit: null,
        },
      ],
    };
  }
  const mean = present.reduce((a, b) => a + b, 0) / present.length;
  const meanMovingRange = screenedMeanMovingRange(ranges, options.screenMovingRanges ?? true);
  const spread = meanMovingRange === null ? null : XMR_LIMIT_CONSTANT * meanMovingRange;
  const upper = spread === null ? null : mean + spread;
  const lower = spread === null ? null : mean - spread;
  const upper2 = spread === null ? null : mean + (2 / 3) * spread;
  const lower2 = spread === null ? null : mean - (2 / 3) * spread;

  const n = values.length;
  const flags: Map<SpecialCauseRule, 'high' | 'low'>[] = values.map(() => new Map());
  const side = (v: number | null): 1 | -1 | 0 => (v === null ? 0 : v > mean ? 1 : v < mean ? -1 : 0);

  // Rule 1: beyond a process limit (no limits without at least one moving range).
  if (upper !== null && lower !== null) {
    values.forEach((v, i) => {
      if (v !== null && (v > upper || v < lower)) flags[i]?.set('beyond-limit', v > upper ? 'high' : 'low');
    });
  }

  // Rule 2: shift — a run of points on one side of the mean; gaps and points on the mean break it.
  let runStart = 0;
  for (let i = 0; i <= n; i++) {
    const s = i < n ? side(values[i] ?? null) : 0;
    const startSide = side(values[runStart] ?? null);
    if (i === n || s === 0 || s !== startSide) {
      if (startSide !== 0 && i - runStart >= shiftLength) {
        for (let j = runStart; j < i; j++) flags[j]?.set('shift', startSide > 0 ? 'high' : 'low');
      }
      runStart = i;
    }
  }

  // Rule 3: trend — each point higher (or lower) than the one before; gaps and ties break it.
  let trendStart = 0;
  let trendDirection = 0;
  const closeTrend = (end: number): void => {
    if (trendDirection !== 0 && end - trendStart + 1 >= trendLength) {
      for (let j = trendStart; j <= end; j++) flags[j]?.set('trend', trendDirection > 0 ? 'high' : 'low');
    }
  };
  for (let i = 1; i < n; i++) {
    const a = values[i - 1] ?? null;
    const b = values[i] ?? null;
    const step = a === null || b === null ? 0 : Math.sign(b - a);
    if (step !== 0 && step === trendDirection) continue;
    closeTrend(i - 1);
    trendDirection = step;
    trendStart = step === 0 ? i : i - 1;
  }
  closeTrend(n - 1);

  // Rule 4: two of three consecutive points beyond the same 2-sigma line.
  if (upper2 !== null && lower2 !== null) {
    const zone = (v: number | null): 1 | -1 | 0 => (v === null ? 0 : v > upper2 ? 1 : v < lower2 ? -1 : 0);
    for (let i = 0; i + 2 < n; i++) {
      for (const direction of [1, -1] as const) {
        const window = [i, i + 1, i + 2].filter((j) => zone(values[j] ?? null) === direction);
        if (window.length >= 2) {
          for (const j of window) flags[j]?.set('two-of-three', direction > 0 ? 'high' : 'low');
        }
      }
    }
  }

  const order: SpecialCauseRule[] = ['beyond-limit', 'shift', 'two-of-three', 'trend'];
  const points: SpcPoint[] = values.map((value, i) => {
    const pointFlags = flags[i] ?? new Map<SpecialCauseRule, 'high' | 'low'>();
    const rules = order.filter((rule) => pointFlags.has(rule));
    const first = rules[0];
    const direction = first === undefined ? null : (pointFlags.get(first) ?? null);
    return { value, rules, direction, meaning: meaningOf(direction, options.polarity) };
  });

  let last: SpcPoint | undefined;
  for (let i = points.length - 1; i >= 0 && last === undefined; i--) {
    if (points[i]?.value !== null) last = points[i];
  }
  return {
    mean,
    meanMovingRange,
    upperProcessLimit: upper,
    lowerProcessLimit: lower,
    upperTwoSigma: upper2,
    lowerTwoSigma: lower2,
    movingRanges,
    points,
    icon: iconFor(last),
    shiftLength,
    trendLength,
    fewPoints: present.length < MIN_POINTS_FOR_RELIABLE_LIMITS,
    segments: [
      {
        start: 0,
        end: values.length - 1,
        mean,
        meanMovingRange,
        upperProcessLimit: upper,
        lowerProcessLimit: lower,
      },
    ],
  };
}

export const ASSURANCE_ICONS = [
  'consistently-passing',
  'hit-and-miss',
  'consistently-failing',
  'none',
] as const;
export type AssuranceIcon = (typeof ASSURANCE_ICONS)[number];

/**
 * Whether the process, as its latest period's limits describe it, will meet a target. None
 * for a measure with no target or no direction (a neutral measure has no pass or fail),
 * or a chart without limits. A limit exactly on the target counts as hit and miss.
 */
export function assuranceIcon(
  result: Pick<SpcResult, 'upperProcessLimit' | 'lowerProcessLimit'>,
  target: number | null | undefined,
  polarity: Polarity,
): AssuranceIcon {
  const { upperProcessLimit: upper, lowerProcessLimit: lower } = result;
  if (target === null || target === undefined || polarity === 'neutral' || upper === null || lower === null) {
    return 'none';
  }
  const above = lower > target; // every point expected above the target
  const below = upper < target; // every point expected below it
  if (!above && !below) return 'hit-and-miss';
  const passing = polarity === 'higher-is-better' ? above : below;
  return passing ? 'consistently-passing' : 'consistently-failing';
}

/** Plain-English words for an assurance icon. */
export function describeAssurance(icon: AssuranceIcon): string {
  switch (icon) {
    case 'consistently-passing':
      return 'The process limits are on the right side of the target: it will consistently pass';
    case 'hit-and-miss':
      return 'The target lies between the process limits: it will be hit and missed at random';
    case 'consistently-failing':
      return 'The process limits are on the wrong side of the target: it will consistently fail until the process changes';
    case 'none':
      return 'No target, or no assurance to give';
  }
}

/** The mean moving range, after leaving out ranges above 3.267 × the first mean when screening. */
function screenedMeanMovingRange(ranges: readonly number[], screen: boolean): number | null {
  if (ranges.length === 0) return null;
  const rawMean = ranges.reduce((a, b) => a + b, 0) / ranges.length;
  if (!screen) return rawMean;
  const kept = ranges.filter((r) => r <= MOVING_RANGE_SCREEN_CONSTANT * rawMean);
  return kept.length === 0 ? rawMean : kept.reduce((a, b) => a + b, 0) / kept.length;
}

function meaningOf(direction: 'high' | 'low' | null, polarity: Polarity): SpcPoint['meaning'] {
  if (direction === null) return null;
  if (polarity === 'neutral') return 'neither';
  const good = polarity === 'higher-is-better' ? 'high' : 'low';
  return direction === good ? 'improvement' : 'concern';
}

function iconFor(last: SpcPoint | undefined): VariationIcon {
  if (last === undefined) return 'none';
  if (last.direction === null || last.meaning === null) return 'common-cause';
  return `${last.meaning}-${last.direction}`;
}

/** Plain-English words for an icon, for the page, the alt text and the API. */
export function describeIcon(icon: VariationIcon): string {
  switch (icon) {
    case 'common-cause':
      return 'Common cause variation: no significant change';
    case 'improvement-high':
      return 'Special cause variation: improvement (higher values)';
    case 'improvement-low':
      return 'Special cause variation: improvement (lower values)';
    case 'concern-high':
      return 'Special cause variation: concern (higher values)';
    case 'concern-low':
      return 'Special cause variation: concern (lower values)';
    case 'neither-high':
      return 'Special cause variation: higher values (neither improvement nor concern)';
    case 'neither-low':
      return 'Special cause variation: lower values (neither improvement nor concern)';
    case 'none':
      return 'No data to chart';
  }
}
