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
