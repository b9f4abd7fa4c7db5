/**
 * One FEBRL run: train, block, score and decide at the threshold fixed below, then, and
 * only then, compare with the labels. Shared by bench/linkage/run.ts and the tests.
 */
import { blockPairs, type BlockingResult, type CandidatePairs, type RuleReport } from './blocking.ts';
import { bindModel, trainModel, type LinkageModel } from './fellegi-sunter.ts';
import type { LinkageSetup } from './febrl-models.ts';
import type { LinkSide } from './record-columns.ts';
import {
  assignOneToOne,
  clusterRecords,
  linkQuality,
  pairsAbove,
  type LinkQuality,
} from './link-decisions.ts';

/** Fixed before looking at any label: a pair is a link when its match probability is at least one half. */
export const THRESHOLD = 0.5;

export interface RunResult {
  setup: string;
  candidatePairs: number;
  blockingRecall: number;
  rules: RuleReport[];
  pairwise: LinkQuality;
  decided: LinkQuality;
  model: LinkageModel;
  seconds: { train: number; block: number; score: number };
}

const now = () => Number(process.hrtime.bigint()) / 1e9;

/** Train, block and weigh, timing each step; `right` null deduplicates `left`. */
function trainBlockScore(
  setup: LinkageSetup,
  left: LinkSide,
  right: LinkSide | null,
  leftEntities: Int32Array,
  rightEntities: Int32Array,
): {
  model: LinkageModel;
  blocked: BlockingResult;
  pairs: CandidatePairs;
  weights: Float64Array;
  isTrue: (p: number) => boolean;
  blockedTrue: number;
  seconds: RunResult['seconds'];
} {
  const t0 = now();
  const { model } = trainModel(left, right, { comparisons: setup.comparisons, ...setup.training });
  const t1 = now();
  const blocked = blockPairs(left, right, setup.blocking, {
    isMatch: (i, j) => leftEntities[i] === rightEntities[j],
  });
  const t2 = now();
  const weights = bindModel(model, setup.comparisons, left, right).weights(blocked.pairs);
  const t3 = now();
  const pairs = blocked.pairs;
  const isTrue = (p: number) => leftEntities[pairs.left[p]!] === rightEntities[pairs.right[p]!];
  let blockedTrue = 0;
  for (let p = 0; p < pairs.length; p++) if (isTrue(p)) blockedTrue++;
  return {
    model,
    blocked,
    pairs,
    weights,
    isTrue,
    blockedTrue,
    seconds: { train: t1 - t0, block: t2 - t1, score: t3 - t2 },
  };
}

/** Link file A to file B (one true partner each), deciding one to one. */
export function runLink(
  setup: LinkageSetup,
  left: LinkSide,
  right: LinkSide,
  leftEntities: Int32Array,
  rightEntities: Int32Array,
): RunResult {
  const { model, blocked, pairs, weights, isTrue, blockedTrue, seconds } = trainBlockScore(
    setup,
    left,
    right,
    leftEntities,
    rightEntities,
  );
  const countTrue = (kept: Int32Array) => kept.reduce((n, p) => n + (isTrue(p) ? 1 : 0), 0);
  // The true total: every entity present on both sides (FEBRL4: all 5,000).
  const rightSet = new Set(rightEntities);
  const trueTotal = new Set([...leftEntities].filter((e) => rightSet.has(e))).size;
  const above = pairsAbove(pairs, weights, THRESHOLD);
  const assigned = assignOneToOne(pairs, weights, THRESHOLD);
  return {
    setup: setup.name,
    candidatePairs: pairs.length,
    blockingRecall: blockedTrue / trueTotal,
    rules: blocked.rules,
    pairwise: linkQuality(countTrue(above), above.length, trueTotal),
    decided: linkQuality(countTrue(assigned), assigned.length, trueTotal),
    model,
    seconds,
  };
}

/** Deduplicate one file: pairwise links at the threshold, then clusters scored pairwise. */
export function runDedupe(
  setup: LinkageSetup,
  records: LinkSide,
  ids: readonly string[],
  entities: Int32Array,
  trueTotal: number,
): RunResult {
  const { model, blocked, pairs, weights, isTrue, blockedTrue, seconds } = trainBlockScore(
    setup,
    records,
    null,
    entities,
    entities,
  );
  const above = pairsAbove(pairs, weights, THRESHOLD);
  const aboveTrue = above.reduce((n, p) => n + (isTrue(p) ? 1 : 0), 0);
  // Clusters: every pair of records in the same cluster counts as a predicted link.
  const clusters = clusterRecords(ids, pairs, weights, THRESHOLD);
  const members = new Map<string, number[]>();
  clusters.forEach((c, i) => {
    const list = members.get(c);
    if (list) list.push(i);
    else members.set(c, [i]);
  });
  let predicted = 0;
  let predictedTrue = 0;
  for (const list of members.values()) {
    for (let a = 0; a < list.length; a++) {
      for (let b = a + 1; b < list.length; b++) {
        predicted++;
        if (entities[list[a]!] === entities[list[b]!]) predictedTrue++;
      }
    }
  }
  return {
    setup: setup.name,
    candidatePairs: pairs.length,
    blockingRecall: blockedTrue / trueTotal,
    rules: blocked.rules,
    pairwise: linkQuality(aboveTrue, above.length, trueTotal),
    decided: linkQuality(predictedTrue, predicted, trueTotal),
    model,
    seconds,
  };
}
