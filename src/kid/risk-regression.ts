/**
 * Logistic regression on grouped data, and the two ways the risk model is judged: the area
 * under the ROC curve and calibration by decile of predicted risk. Pure functions, so the
 * arithmetic can be checked against cases with a known answer (risk-regression.test.ts).
 *
 * The data come grouped: one row per distinct feature vector, with the people who have it
 * and how many of them had the outcome. The likelihood of a group is binomial, so the fit on
 * a few thousand groups equals the fit on the 1.9M people they stand for.
 */
import { KernelError } from '../errors.ts';

/** People who share one feature vector `x` (its first element 1, the intercept), and their outcomes. */
export interface OutcomeGroup {
  x: readonly number[];
  people: number;
  events: number;
}

export interface LogisticFit {
  coefficients: number[];
  /** square roots of the diagonal of the inverse (penalised) information at the estimate */
  standardErrors: number[];
  iterations: number;
  /** false when the coefficients still moved after the last iteration allowed */
  converged: boolean;
  /** log-likelihood at the estimate (without the ridge penalty) */
  logLikelihood: number;
}

export interface FitOptions {
  /** ridge penalty λ (the fit maximises log L − λ/2·Σβ², the intercept unpenalised); 0 is plain maximum likelihood */
  ridge?: number;
  maxIterations?: number;
  /** converged when no coefficient moves by more than this */
  tolerance?: number;
}

/** The logistic function, without overflow for large |η|. */
export function logistic(eta: number): number {
  if (eta >= 0) return 1 / (1 + Math.exp(-eta));
  const e = Math.exp(eta);
  return e / (1 + e);
}

/** log(1 + e^η), without overflow. */
function softplus(eta: number): number {
  return eta > 0 ? eta + Math.log1p(Math.exp(-eta)) : Math.log1p(Math.exp(eta));
}

function dot(a: readonly number[], b: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] ?? 0) * (b[i] ?? 0);
  return s;
}

function logLikelihood(groups: readonly OutcomeGroup[], beta: readonly number[]): number {
  let ll = 0;
  for (const g of groups) {
    const eta = dot(g.x, beta);
    // y·η − n·log(1 + e^η): the binomial log-likelihood without its constant.
    ll += g.events * eta - g.people * softplus(eta);
  }
  return ll;
}

function penalty(beta: readonly number[], ridge: number): number {
  let s = 0;
  for (let j = 1; j < beta.length; j++) s += (beta[j] ?? 0) ** 2;
  return (ridge / 2) * s;
}

/** The lower-triangular L with L·Lᵀ = A, for a symmetric positive definite A. */
function cholesky(a: readonly number[][]): number[][] {
  const n = a.length;
  const l = a.map(() => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++) {
    const li = l[i] as number[];
    for (let j = 0; j <= i; j++) {
      const lj = l[j] as number[];
      let s = a[i]?.[j] ?? 0;
      for (let k = 0; k < j; k++) s -= (li[k] ?? 0) * (lj[k] ?? 0);
      if (i === j) {
        if (!(s > 0))
          throw new KernelError(
            'invalid-input',
            'The risk model cannot be fitted: its terms are not separable',
            {
              hint: 'A term takes the same value for everyone or repeats another; give the fit a ridge penalty above 0',
            },
          );
        li[j] = Math.sqrt(s);
      } else li[j] = s / (lj[j] ?? 1);
    }
  }
  return l;
}

/** Solves L·Lᵀ·x = b. */
function solveCholesky(l: readonly number[][], b: readonly number[]): number[] {
  const n = l.length;
  const y = new Array<number>(n).fill(0);
  for (let i = 0; i < n; i++) {
    let s = b[i] ?? 0;
    for (let k = 0; k < i; k++) s -= (l[i]?.[k] ?? 0) * (y[k] ?? 0);
    y[i] = s / (l[i]?.[i] ?? 1);
  }
  const x = new Array<number>(n).fill(0);
  for (let i = n - 1; i >= 0; i--) {
    let s = y[i] ?? 0;
    for (let k = i + 1; k < n; k++) s -= (l[k]?.[i] ?? 0) * (x[k] ?? 0);
    x[i] = s / (l[i]?.[i] ?? 1);
  }
  return x;
}

/** The gradient and the (penalised) information matrix at `beta`. */
function derivatives(
  groups: readonly OutcomeGroup[],
  beta: readonly number[],
  ridge: number,
): { gradient: number[]; information: number[][] } {
  const p = beta.length;
  const gradient = beta.map((b, j) => (j === 0 ? 0 : -ridge * b));
  const information = beta.map((_, i) => beta.map((__, j) => (i === j && i > 0 ? ridge : 0)));
  for (const g of groups) {
    const mu = logistic(dot(g.x, beta));
    const residual = g.events - g.people * mu;
    const weight = g.people * mu * (1 - mu);
    for (let i = 0; i < p; i++) {
      const xi = g.x[i] ?? 0;
      if (xi === 0) continue;
      gradient[i] = (gradient[i] ?? 0) + xi * residual;
      const row = information[i] as number[];
      for (let j = 0; j <= i; j++) row[j] = (row[j] ?? 0) + weight * xi * (g.x[j] ?? 0);
    }
  }
  for (let i = 0; i < p; i++)
    for (let j = 0; j < i; j++) (information[j] as number[])[i] = information[i]?.[j] ?? 0;
  return { gradient, information };
}

/**
 * Fits a logistic regression by Newton–Raphson (iteratively reweighted least squares), with
 * a ridge penalty on every coefficient but the intercept so that a term nobody in a group
 * has, or a rare term whose holders all had the outcome, stays finite. Each step that would
 * lower the penalised likelihood is halved (at most 30 times). Deterministic: the same
 * groups in the same order give the same numbers.
 */
export function fitLogistic(groups: readonly OutcomeGroup[], options: FitOptions = {}): LogisticFit {
  const ridge = options.ridge ?? 1;
  const maxIterations = options.maxIterations ?? 50;
  const tolerance = options.tolerance ?? 1e-9;
  const p = groups[0]?.x.length ?? 0;
  if (p === 0) throw new KernelError('invalid-input', 'The risk model has no data to fit');
  const people = groups.reduce((n, g) => n + g.people, 0);
  const events = groups.reduce((n, g) => n + g.events, 0);
  if (events <= 0 || events >= people)
    throw new KernelError(
      'invalid-input',
      `The risk model cannot be fitted: ${events <= 0 ? 'nobody' : 'everybody'} in the fitting data had the outcome`,
      { hint: 'Load the admitted patient care feeds for the twelve months before the model\u2019s date' },
    );
  // Start at the overall rate, every other coefficient 0: one step from the answer when no term matters.
  let beta = new Array<number>(p).fill(0);
  beta[0] = Math.log(events / (people - events));
  let objective = logLikelihood(groups, beta) - penalty(beta, ridge);
  let iterations = 0;
  let converged = false;
  while (!converged && iterations < maxIterations) {
    iterations++;
    const { gradient, information } = derivatives(groups, beta, ridge);
    const step = solveCholesky(cholesky(information), gradient);
    let scale = 1;
    let next = beta.map((b, j) => b + (step[j] ?? 0));
    let nextObjective = logLikelihood(groups, next) - penalty(next, ridge);
    for (let halvings = 0; nextObjective < objective && halvings < 30; halvings++) {
      scale /= 2;
      next = beta.map((b, j) => b + scale * (step[j] ?? 0));
      nextObjective = logLikelihood(groups, next) - penalty(next, ridge);
    }
    const moved = Math.max(...step.map((s) => Math.abs(scale * s)));
    beta = next;
    objective = nextObjective;
    converged = moved < tolerance;
  }
  const { information } = derivatives(groups, beta, ridge);
  const l = cholesky(information);
  const standardErrors = beta.map((_, j) => {
    const unit = beta.map((__, i) => (i === j ? 1 : 0));
    return Math.sqrt(solveCholesky(l, unit)[j] ?? NaN);
  });
  return {
    coefficients: beta,
    standardErrors,
    iterations,
    converged,
    logLikelihood: logLikelihood(groups, beta),
  };
}

/** People with the same predicted risk, and how many of them had the outcome. */
export interface ScoredGroup {
  risk: number;
  people: number;
  events: number;
}

/**
 * The area under the ROC curve: the chance that a person who had the outcome was given a
 * higher risk than one who did not, ties counting one half (the Mann–Whitney statistic).
 * Null when there are no people with, or none without, the outcome.
 */
export function auroc(groups: readonly ScoredGroup[]): number | null {
  const sorted = [...groups].sort((a, b) => a.risk - b.risk);
  const positives = sorted.reduce((n, g) => n + g.events, 0);
  const negatives = sorted.reduce((n, g) => n + g.people - g.events, 0);
  if (positives <= 0 || negatives <= 0) return null;
  let below = 0;
  let concordant = 0;
  for (let i = 0; i < sorted.length;) {
    // Groups with exactly the same risk are one tie.
    let events = 0;
    let nonEvents = 0;
    const risk = sorted[i]?.risk;
    for (; i < sorted.length && sorted[i]?.risk === risk; i++) {
      events += sorted[i]?.events ?? 0;
      nonEvents += (sorted[i]?.people ?? 0) - (sorted[i]?.events ?? 0);
    }
    concordant += events * (below + nonEvents / 2);
    below += nonEvents;
  }
  return concordant / (positives * negatives);
}

export interface CalibrationDecile {
  /** 1 = the tenth of people with the lowest predicted risk, 10 = the highest */
  decile: number;
  people: number;
  /** mean predicted risk, 0–1 */
  predicted: number;
  /** people with the outcome: fractional where people with one predicted risk straddle two deciles */
  events: number;
  /** events ÷ people, 0–1 */
  observed: number;
}

/**
 * Calibration by decile of predicted risk: people ordered by risk and cut into ten equal
 * tenths (the first floor(N·k/10) people end decile k). People who share a risk and straddle
 * a cut are split between the deciles, their outcomes in proportion, since which of them falls
 * on which side is arbitrary.
 */
export function calibrationByDecile(groups: readonly ScoredGroup[]): CalibrationDecile[] {
  const sorted = [...groups].sort((a, b) => a.risk - b.risk);
  const total = sorted.reduce((n, g) => n + g.people, 0);
  const deciles = Array.from({ length: 10 }, (_, i) => ({
    decile: i + 1,
    people: 0,
    riskSum: 0,
    events: 0,
  }));
  let decile = 0;
  let placed = 0;
  for (const g of sorted) {
    let left = g.people;
    while (left > 0) {
      const end = Math.floor((total * (decile + 1)) / 10);
      const room = end - placed;
      if (room <= 0 && decile < 9) {
        decile++;
        continue;
      }
      const take = decile === 9 ? left : Math.min(left, room);
      const d = deciles[decile] as (typeof deciles)[number];
      d.people += take;
      d.riskSum += take * g.risk;
      d.events += g.people > 0 ? (g.events * take) / g.people : 0;
      placed += take;
      left -= take;
    }
  }
  return deciles.map((d) => ({
    decile: d.decile,
    people: d.people,
    predicted: d.people > 0 ? d.riskSum / d.people : 0,
    events: d.events,
    observed: d.people > 0 ? d.events / d.people : 0,
  }));
}
