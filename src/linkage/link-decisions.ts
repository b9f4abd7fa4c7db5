/**
 * Decisions on weighed pairs: which pairs are links at a threshold, a one-to-one
 * assignment when a file is linked to another (each record links at most once), and
 * clusters when a file is deduplicated.
 */
import type { CandidatePairs } from './blocking.ts';
import { probabilityOf } from './fellegi-sunter.ts';

/** The pairs whose match probability is at least `threshold`, best first. */
export function pairsAbove(pairs: CandidatePairs, weights: Float64Array, threshold: number): Int32Array {
  const kept: number[] = [];
  for (let p = 0; p < pairs.length; p++) if (probabilityOf(weights[p]!) >= threshold) kept.push(p);
  kept.sort((a, b) => weights[b]! - weights[a]! || a - b);
  return Int32Array.from(kept);
}

/**
 * One-to-one links: take pairs above the threshold from the heaviest down, keeping a pair
 * only if neither record is linked yet (the greedy assignment anonlink uses; ties go to
 * the pair found first, so reruns agree). Returns the indexes of the pairs kept.
 */
export function assignOneToOne(pairs: CandidatePairs, weights: Float64Array, threshold: number): Int32Array {
  const usedLeft = new Set<number>();
  const usedRight = new Set<number>();
  const kept: number[] = [];
  for (const p of pairsAbove(pairs, weights, threshold)) {
    const i = pairs.left[p]!;
    const j = pairs.right[p]!;
    if (usedLeft.has(i) || usedRight.has(j)) continue;
    usedLeft.add(i);
    usedRight.add(j);
    kept.push(p);
  }
  return Int32Array.from(kept);
}

/**
 * Clusters of one file's records joined by pairs above the threshold (connected
 * components, by union–find). A cluster's id is the least record id among its members, so
 * the same records give the same ids on every rerun, whatever order they arrive in, and a
 * record joining a cluster keeps its id unless its own id sorts first.
 */
export function clusterRecords(
  ids: readonly string[],
  pairs: CandidatePairs,
  weights: Float64Array,
  threshold: number,
): string[] {
  const parent = Int32Array.from(ids, (_, i) => i);
  const find = (x: number): number => {
    while (parent[x] !== x) {
      parent[x] = parent[parent[x]!]!;
      x = parent[x]!;
    }
    return x;
  };
  for (const p of pairsAbove(pairs, weights, threshold)) {
    const a = find(pairs.left[p]!);
    const b = find(pairs.right[p]!);
    if (a !== b) parent[Math.max(a, b)] = Math.min(a, b);
  }
  const least = new Map<number, string>();
  ids.forEach((id, i) => {
    const root = find(i);
    const current = least.get(root);
    if (current === undefined || id < current) least.set(root, id);
  });
  return ids.map((_, i) => least.get(find(i))!);
}

export interface LinkQuality {
  truePositives: number;
  falsePositives: number;
  falseNegatives: number;
  precision: number;
  recall: number;
  f1: number;
}

/** Pairwise precision, recall and F1 of predicted links against labels. */
export function linkQuality(predictedTrue: number, predicted: number, trueTotal: number): LinkQuality {
  const precision = predicted === 0 ? 0 : predictedTrue / predicted;
  const recall = trueTotal === 0 ? 0 : predictedTrue / trueTotal;
  return {
    truePositives: predictedTrue,
    falsePositives: predicted - predictedTrue,
    falseNegatives: trueTotal - predictedTrue,
    precision,
    recall,
    f1: precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall),
  };
}

/** A person's decision on a pair the model was unsure of. */
export interface ClericalDecision {
  left: number;
  right: number;
  match: boolean;
}

/** Candidate pairs whose probability lies in [low, high): the clerical review queue, surest first. */
export function reviewQueue(
  pairs: CandidatePairs,
  weights: Float64Array,
  low: number,
  high: number,
): Int32Array {
  const queue: number[] = [];
  for (let p = 0; p < pairs.length; p++) {
    const probability = probabilityOf(weights[p]!);
    if (probability >= low && probability < high) queue.push(p);
  }
  queue.sort((a, b) => weights[b]! - weights[a]! || a - b);
  return Int32Array.from(queue);
}

/** The weight a clerical decision gives its pair: beyond anything the model can give. */
export const DECIDED_WEIGHT = 1000;

/**
 * Applies kept clerical decisions before the links are decided: a pair decided a match
 * weighs DECIDED_WEIGHT (added as a candidate if blocking missed it), one decided not a
 * match weighs −DECIDED_WEIGHT, so reruns honour every decision. Returns the pairs and
 * weights to decide on, and how the model's probabilities compare with the decisions on
 * the pairs reviewed (the model's expected matches against people's count).
 */
export function applyDecisions(
  pairs: CandidatePairs,
  weights: Float64Array,
  decisions: readonly ClericalDecision[],
): {
  pairs: CandidatePairs;
  weights: Float64Array;
  reviewed: { pairs: number; decidedMatches: number; modelExpectedMatches: number };
} {
  const index = new Map<string, number>();
  for (let p = 0; p < pairs.length; p++) index.set(`${pairs.left[p]},${pairs.right[p]}`, p);
  const extraLeft: number[] = [];
  const extraRight: number[] = [];
  const nextWeights = Array.from(weights);
  let decidedMatches = 0;
  let modelExpectedMatches = 0;
  for (const decision of decisions) {
    if (decision.match) decidedMatches++;
    const p = index.get(`${decision.left},${decision.right}`);
    if (p === undefined) {
      if (decision.match) {
        extraLeft.push(decision.left);
        extraRight.push(decision.right);
        nextWeights.push(DECIDED_WEIGHT);
      }
      continue;
    }
    modelExpectedMatches += probabilityOf(weights[p]!);
    nextWeights[p] = decision.match ? DECIDED_WEIGHT : -DECIDED_WEIGHT;
  }
  const left = Int32Array.from([...pairs.left, ...extraLeft]);
  const right = Int32Array.from([...pairs.right, ...extraRight]);
  return {
    pairs: { left, right, length: left.length },
    weights: Float64Array.from(nextWeights),
    reviewed: { pairs: decisions.length, decidedMatches, modelExpectedMatches },
  };
}

/**
 * Many to one: each right record takes its heaviest pair above the threshold, while a left
 * record may take many (a council's several records of one person, linked to one person of
 * the master index). Returns, per right record, the pair's index or −1.
 */
export function bestForEachRight(
  pairs: CandidatePairs,
  weights: Float64Array,
  threshold: number,
  rightCount: number,
): Int32Array {
  const best = new Int32Array(rightCount).fill(-1);
  for (const p of pairsAbove(pairs, weights, threshold)) {
    const j = pairs.right[p]!;
    if (best[j] === -1) best[j] = p;
  }
  return best;
}
