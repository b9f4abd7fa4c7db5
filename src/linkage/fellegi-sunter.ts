/**
 * The Fellegi–Sunter model (Fellegi & Sunter 1969) trained as Splink trains it:
 * - the prior λ (the chance two random records match) from deterministic rules, taken to
 *   find `recall` of the true matches;
 * - u (the chance a level occurs in a non-matching pair) from random pairs;
 * - m (the chance it occurs in a matching pair) by expectation–maximisation over the pairs
 *   of each training blocking rule, u held fixed, and the comparisons that read a blocking
 *   field left out of that rule's session (they agree by construction there); the m of a
 *   comparison is the mean of the sessions that estimated it.
 * A pair's match weight is log2 of the prior odds plus, per comparison, log2(m/u) of its
 * level; at an exact level of a term-frequency adjusted comparison, u is replaced by the
 * share of records carrying that value (rare names weigh more than common ones).
 */
import { KernelError } from '../errors.ts';
import { blockPairs, type BlockingRule, type CandidatePairs } from './blocking.ts';
import { NULL_LEVEL, type BoundComparison, type Comparison } from './comparison.ts';
import type { LinkSide } from './record-columns.ts';

export interface LevelParameters {
  label: string;
  m: number;
  u: number;
}

export interface ComparisonParameters {
  name: string;
  levels: LevelParameters[];
  termFrequency: boolean;
}

export interface LinkageModel {
  /** the prior probability that two records drawn at random match */
  lambda: number;
  comparisons: ComparisonParameters[];
}

export interface TrainingOptions {
  comparisons: readonly Comparison[];
  /** rules precise enough to count as matches when estimating λ */
  deterministicRules: readonly BlockingRule[];
  /** the share of true matches the deterministic rules are assumed to find (Splink: 0.8) */
  deterministicRecall?: number;
  /** random pairs for u (Splink: 1e6) */
  randomPairs?: number;
  /** at least two blocking rules whose pairs EM learns m from */
  emRules: readonly BlockingRule[];
  maxIterations?: number;
  seed?: number;
}

export interface TrainingReport {
  lambda: number;
  deterministicPairs: number;
  randomPairs: number;
  sessions: { rule: string; pairs: number; iterations: number; matchShare: number; fixed: string[] }[];
}

/** A small, seeded generator (mulberry32) so training is repeatable run to run. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function bindAll(comparisons: readonly Comparison[], left: LinkSide, right: LinkSide) {
  return comparisons.map((c) => c.bind(left, right));
}

/**
 * Count each distinct vector of levels over the pairs: EM then runs over patterns, not
 * pairs. A vector is packed into a number, five bits a comparison (NULL_LEVEL as 31), so
 * ten comparisons fit well inside a double's 53 exact bits.
 */
function levelPatterns(bound: readonly BoundComparison[], pairs: CandidatePairs) {
  const counts = new Map<number, number>();
  for (let p = 0; p < pairs.length; p++) {
    const i = pairs.left[p]!;
    const j = pairs.right[p]!;
    let key = 0;
    for (let c = 0; c < bound.length; c++) {
      const level = bound[c]!.level(i, j);
      key = key * 32 + (level === NULL_LEVEL ? 31 : level);
    }
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].map(([key, count]) => {
    const levels = new Array<number>(bound.length);
    for (let c = bound.length - 1; c >= 0; c--) {
      const digit = key % 32;
      levels[c] = digit === 31 ? NULL_LEVEL : digit;
      key = Math.floor(key / 32);
    }
    return { levels, count };
  });
}

export function trainModel(
  left: LinkSide,
  right: LinkSide | null,
  options: TrainingOptions,
): { model: LinkageModel; report: TrainingReport } {
  if (options.comparisons.length > 10 || options.comparisons.some((c) => c.levels.length > 31)) {
    throw new KernelError('usage', 'A model may have at most 10 comparisons of at most 31 levels', {
      hint: 'Merge or drop comparisons',
    });
  }
  if (options.emRules.length < 1) {
    throw new KernelError('usage', 'EM needs at least one training blocking rule', {
      hint: 'Give two or more rules whose fields between them leave every comparison free once',
    });
  }
  const other = right ?? left;
  const dedupe = right === null;
  const bound = bindAll(options.comparisons, left, other);
  const random = seededRandom(options.seed ?? 1);

  // u from random pairs.
  const sample = options.randomPairs ?? 1_000_000;
  const uCounts = options.comparisons.map((c) => new Float64Array(c.levels.length));
  for (let s = 0; s < sample; s++) {
    const i = Math.floor(random() * left.length);
    let j = Math.floor(random() * other.length);
    if (dedupe && j === i) j = (j + 1) % other.length;
    for (let c = 0; c < bound.length; c++) {
      const level = bound[c]!.level(i, j);
      if (level !== NULL_LEVEL) uCounts[c]![level]!++;
    }
  }
  const u = uCounts.map((counts) => {
    const total = counts.reduce((a, b) => a + b, 0);
    // Half a pair's worth where a level was never seen, so no level has u = 0.
    return Array.from(counts, (n) => (n + 0.5) / (total + 0.5 * counts.length));
  });

  // λ from deterministic rules.
  const comparisonsTotal = dedupe ? (left.length * (left.length - 1)) / 2 : left.length * other.length;
  const deterministic = blockPairs(left, right, options.deterministicRules).pairs.length;
  const recall = options.deterministicRecall ?? 0.8;
  const lambda = Math.min(0.5, Math.max(1e-12, deterministic / recall / comparisonsTotal));

  // m by EM, one session per training rule.
  const estimates = options.comparisons.map((c) => c.levels.map(() => [] as number[]));
  const m = options.comparisons.map((c) =>
    c.levels.map((_, l) => (l === c.levels.length - 1 ? 0.05 : 0.95 / (c.levels.length - 1))),
  );
  const sessions: TrainingReport['sessions'] = [];
  for (const rule of options.emRules) {
    const pairs = blockPairs(left, right, [rule]).pairs;
    const free = options.comparisons.map((c) => !c.fields.some((f) => rule.fields.includes(f)));
    const patterns = levelPatterns(bound, pairs);
    let share = 0.1;
    const mSession = m.map((levels) => [...levels]);
    let iterations = 0;
    for (; iterations < (options.maxIterations ?? 25); iterations++) {
      const sums = mSession.map((levels) => new Float64Array(levels.length));
      let matchMass = 0;
      let total = 0;
      for (const pattern of patterns) {
        let pm = share;
        let pu = 1 - share;
        for (let c = 0; c < pattern.levels.length; c++) {
          const level = pattern.levels[c]!;
          if (!free[c] || level === NULL_LEVEL) continue;
          pm *= mSession[c]![level]!;
          pu *= u[c]![level]!;
        }
        const posterior = pm / (pm + pu);
        matchMass += posterior * pattern.count;
        total += pattern.count;
        for (let c = 0; c < pattern.levels.length; c++) {
          const level = pattern.levels[c]!;
          if (free[c] && level !== NULL_LEVEL) sums[c]![level]! += posterior * pattern.count;
        }
      }
      let change = Math.abs(matchMass / total - share);
      share = matchMass / total;
      for (let c = 0; c < sums.length; c++) {
        if (!free[c]) continue;
        const mass = sums[c]!.reduce((a, b) => a + b, 0);
        if (mass <= 0) continue;
        for (let l = 0; l < sums[c]!.length; l++) {
          const next = Math.max(sums[c]![l]! / mass, 1e-6);
          change = Math.max(change, Math.abs(next - mSession[c]![l]!));
          mSession[c]![l] = next;
        }
      }
      if (change < 1e-6) break;
    }
    for (let c = 0; c < free.length; c++) {
      if (free[c]) mSession[c]!.forEach((value, l) => estimates[c]![l]!.push(value));
    }
    sessions.push({
      rule: rule.name,
      pairs: pairs.length,
      iterations,
      matchShare: share,
      fixed: options.comparisons.filter((_, c) => !free[c]).map((c) => c.name),
    });
  }
  const comparisons = options.comparisons.map((comparison, c) => {
    if (estimates[c]![0]!.length === 0) {
      throw new KernelError('usage', `No EM session estimated m for the comparison ${comparison.name}`, {
        hint: 'Add a training blocking rule that does not read its fields',
      });
    }
    return {
      name: comparison.name,
      termFrequency: bound[c]!.termFrequency !== undefined,
      levels: comparison.levels.map((label, l) => {
        const values = estimates[c]![l]!;
        return { label, m: values.reduce((a, b) => a + b, 0) / values.length, u: u[c]![l]! };
      }),
    };
  });
  return {
    model: { lambda, comparisons },
    report: { lambda, deterministicPairs: deterministic, randomPairs: sample, sessions },
  };
}

export function probabilityOf(weight: number): number {
  const odds = 2 ** weight;
  return Number.isFinite(odds) ? odds / (1 + odds) : 1;
}

export interface WaterfallStep {
  comparison: string;
  level: string;
  m: number | null;
  u: number | null;
  /** log2(m/u) for this comparison, 0 when a value is missing */
  weight: number;
  /** the term-frequency part of `weight` (0 when none applies) */
  termFrequencyAdjustment: number;
  /** the running total after this step */
  cumulative: number;
}

export interface PairExplanation {
  priorWeight: number;
  steps: WaterfallStep[];
  weight: number;
  probability: number;
}

/** A model bound to two sides: weighs candidate pairs and explains any one of them. */
export interface PairScorer {
  weights(pairs: CandidatePairs): Float64Array;
  explain(i: number, j: number): PairExplanation;
}

export function bindModel(
  model: LinkageModel,
  comparisons: readonly Comparison[],
  left: LinkSide,
  right: LinkSide | null,
): PairScorer {
  if (comparisons.length !== model.comparisons.length) {
    throw new KernelError('usage', 'The model and the comparisons given do not have the same fields', {
      hint: 'Score with the comparisons the model was trained on',
    });
  }
  const bound = bindAll(comparisons, left, right ?? left);
  const priorWeight = Math.log2(model.lambda / (1 - model.lambda));
  const levelWeights = model.comparisons.map((c) => Float64Array.from(c.levels, (l) => Math.log2(l.m / l.u)));
  const step = (c: number, i: number, j: number) => {
    const level = bound[c]!.level(i, j);
    if (level === NULL_LEVEL) return { level, weight: 0, tf: 0 };
    let weight = levelWeights[c]![level]!;
    let tf = 0;
    const termFrequency = bound[c]!.termFrequency;
    if (level === 0 && termFrequency) {
      tf = Math.log2(model.comparisons[c]!.levels[0]!.u / Math.max(termFrequency(i), 1e-9));
      weight += tf;
    }
    return { level, weight, tf };
  };
  return {
    weights(pairs) {
      const out = new Float64Array(pairs.length);
      for (let p = 0; p < pairs.length; p++) {
        const i = pairs.left[p]!;
        const j = pairs.right[p]!;
        let weight = priorWeight;
        for (let c = 0; c < bound.length; c++) weight += step(c, i, j).weight;
        out[p] = weight;
      }
      return out;
    },
    explain(i, j) {
      let cumulative = priorWeight;
      const steps = model.comparisons.map((parameters, c): WaterfallStep => {
        const { level, weight, tf } = step(c, i, j);
        cumulative += weight;
        const levelParameters = level === NULL_LEVEL ? undefined : parameters.levels[level];
        return {
          comparison: parameters.name,
          level: levelParameters?.label ?? 'missing',
          m: levelParameters?.m ?? null,
          u: levelParameters?.u ?? null,
          weight,
          termFrequencyAdjustment: tf,
          cumulative,
        };
      });
      return { priorWeight, steps, weight: cumulative, probability: probabilityOf(cumulative) };
    },
  };
}
