import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runDedupe, runLink } from './febrl-evaluation.ts';
import { blockOn, blockPairs } from './blocking.ts';
import { dateComparison, NULL_LEVEL, postcodeComparison, type LinkRecord } from './comparison.ts';
import { febrlFolder, readFebrlFile, truePairsWithin } from './febrl-file.ts';
import { plainSetup } from './febrl-models.ts';
import { bindModel, probabilityOf, trainModel } from './fellegi-sunter.ts';
import { applyDecisions, assignOneToOne, clusterRecords, reviewQueue } from './link-decisions.ts';
import { damerauLevenshtein, dice, jaroWinkler, popcount } from './string-metrics.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const febrl = (name: string) => readFebrlFile(path.join(febrlFolder(root), name));

describe('string metrics', () => {
  it('gives the textbook Jaro–Winkler and Damerau–Levenshtein values', () => {
    expect(jaroWinkler('martha', 'marhta')).toBeCloseTo(0.9611, 4);
    expect(jaroWinkler('dixon', 'dicksonx')).toBeCloseTo(0.8133, 4);
    expect(jaroWinkler('abc', 'xyz')).toBe(0);
    expect(damerauLevenshtein('abcd', 'acbd')).toBe(1);
    expect(damerauLevenshtein('kitten', 'sitting')).toBe(3);
    expect(damerauLevenshtein('ca', 'abc')).toBe(3); // optimal string alignment, not unrestricted
  });

  it('counts bits and the Dice coefficient over 32-bit words', () => {
    const a = Uint32Array.of(0xffffffff, 0x0000000f);
    const b = Uint32Array.of(0x0000ffff, 0x000000ff);
    expect(popcount(a)).toBe(36);
    expect(popcount(b)).toBe(24);
    expect(dice(a, b)).toBeCloseTo((2 * 20) / 60, 12);
  });
});

describe('comparison levels', () => {
  const level = (comparison: ReturnType<typeof dateComparison>, x: string | null, y: string | null) => {
    const left: LinkRecord[] = [{ v: x }];
    const right: LinkRecord[] = [{ v: y }];
    return comparison.levels[comparison.bind(left, right).level(0, 0)] ?? 'missing';
  };

  it('grades dates: exact, one character, swapped, within a month, within a year', () => {
    const dob = dateComparison('v');
    expect(level(dob, '19800412', '19800412')).toBe('exact');
    expect(level(dob, '19800412', '19800413')).toBe('one character different');
    expect(level(dob, '19800412', '19801204')).toBe('day and month swapped');
    expect(level(dob, '19800412', '19800429')).toBe('within a month');
    expect(level(dob, '19800412', '19801030')).toBe('within a year');
    expect(level(dob, '19800412', '19700101')).toBe('else');
    expect(level(dob, null, '19700101')).toBe('missing');
    expect(dob.bind([{ v: '' }], [{ v: 'x' }]).level(0, 0)).toBe(NULL_LEVEL);
  });

  it('grades UK postcodes by sector and district', () => {
    const pc = postcodeComparison('v');
    expect(level(pc, 'ME14 5AB', 'me145ab')).toBe('exact');
    expect(level(pc, 'ME14 5AB', 'ME14 5ZZ')).toBe('same sector');
    expect(level(pc, 'ME14 5AB', 'ME14 2AB')).toBe('same district');
    expect(level(pc, 'ME14 5AB', 'ME15 5AB')).toBe('else');
  });
});

describe('blocking', () => {
  it('unions rules without repeating a pair and reports each rule', () => {
    const left: LinkRecord[] = [
      { a: 'x', b: '1' },
      { a: 'y', b: '2' },
    ];
    const right: LinkRecord[] = [
      { a: 'x', b: '1' },
      { a: 'z', b: '2' },
    ];
    const result = blockPairs(left, right, [blockOn(['a']), blockOn(['b'])], { isMatch: (i, j) => i === j });
    expect(result.pairs.length).toBe(2);
    expect(result.rules).toEqual([
      { name: 'a', pairs: 1, newPairs: 1, truePairs: 1 },
      { name: 'b', pairs: 2, newPairs: 1, truePairs: 2 },
    ]);
  });
});

describe('FEBRL (threshold 0.5, fixed before the labels are read)', () => {
  const a = febrl('dataset4a.csv');
  const b = febrl('dataset4b.csv');

  it('links FEBRL4 without soc_sec_id at F1 ≥ 0.995 with blocking recall ≥ 0.999', () => {
    const result = runLink(plainSetup({ socSecId: false }), a.records, b.records, a.entities, b.entities);
    expect(result.blockingRecall).toBeGreaterThanOrEqual(0.999);
    expect(result.decided.f1).toBeGreaterThanOrEqual(0.995);
    // EM learned that names agree far more often in matches than in random pairs.
    const surname = result.model.comparisons.find((c) => c.name === 'surname')!;
    expect(surname.levels[0]!.m / surname.levels[0]!.u).toBeGreaterThan(100);
  });

  it('deduplicates FEBRL3 at F1 ≥ 0.99, pairwise and as clusters', () => {
    const d3 = febrl('dataset3.csv');
    const result = runDedupe(
      plainSetup({ socSecId: true }),
      d3.records,
      d3.ids,
      d3.entities,
      truePairsWithin(d3),
    );
    expect(result.pairwise.f1).toBeGreaterThanOrEqual(0.99);
    expect(result.decided.f1).toBeGreaterThanOrEqual(0.99);
  });

  it('explains a pair as a waterfall whose steps add up to its weight', () => {
    const setup = plainSetup({ socSecId: false });
    const left = a.records.slice(0, 800);
    const right = b.records.filter((_, j) => b.entities[j]! < 5000).slice(0, 800);
    const { model } = trainModel(a.records, b.records, {
      ...setup.training,
      comparisons: setup.comparisons,
      randomPairs: 50_000,
    });
    const scorer = bindModel(model, setup.comparisons, left, right);
    const pairs = blockPairs(left, right, setup.blocking).pairs;
    const weights = scorer.weights(pairs);
    const explanation = scorer.explain(pairs.left[0]!, pairs.right[0]!);
    expect(explanation.weight).toBeCloseTo(weights[0]!, 9);
    const total = explanation.steps.reduce((sum, step) => sum + step.weight, explanation.priorWeight);
    expect(total).toBeCloseTo(explanation.weight, 9);
    expect(explanation.probability).toBeCloseTo(probabilityOf(weights[0]!), 12);
    expect(explanation.steps.map((s) => s.comparison)).toEqual(setup.comparisons.map((c) => c.name));
    // One to one: no record is linked twice.
    const kept = assignOneToOne(pairs, weights, 0.5);
    expect(new Set(Array.from(kept, (p) => pairs.left[p])).size).toBe(kept.length);
    expect(new Set(Array.from(kept, (p) => pairs.right[p])).size).toBe(kept.length);
  });
});

describe('clusters', () => {
  it('names each cluster by its least record id, whatever the order of records and pairs', () => {
    const ids = ['r3', 'r1', 'r2', 'r9'];
    const pairs = { left: Int32Array.of(0, 1), right: Int32Array.of(2, 2), length: 2 };
    const weights = Float64Array.of(10, 10);
    expect(clusterRecords(ids, pairs, weights, 0.5)).toEqual(['r1', 'r1', 'r1', 'r9']);
    const reordered = ['r9', 'r2', 'r1', 'r3'];
    const pairs2 = { left: Int32Array.of(3, 2), right: Int32Array.of(1, 1), length: 2 };
    expect(clusterRecords(reordered, pairs2, weights, 0.5)).toEqual(['r9', 'r1', 'r1', 'r1']);
    expect(clusterRecords(ids, pairs, Float64Array.of(-10, -10), 0.5)).toEqual(ids);
  });
});

describe('clerical review', () => {
  it('queues the uncertain band and applies decisions, adding a decided match blocking missed', () => {
    const pairs = { left: Int32Array.of(0, 1, 2), right: Int32Array.of(0, 1, 2), length: 3 };
    const weights = Float64Array.of(10, 0, -10); // probabilities ~1, 0.5, ~0
    expect(Array.from(reviewQueue(pairs, weights, 0.1, 0.9))).toEqual([1]);
    const decided = applyDecisions(pairs, weights, [
      { left: 1, right: 1, match: false },
      { left: 2, right: 0, match: true },
    ]);
    expect(decided.pairs.length).toBe(4);
    expect(decided.reviewed).toEqual({ pairs: 2, decidedMatches: 1, modelExpectedMatches: 0.5 });
    const kept = Array.from(assignOneToOne(decided.pairs, decided.weights, 0.5), (p) => [
      decided.pairs.left[p],
      decided.pairs.right[p],
    ]);
    // The decided match (2,0) outweighs the model's best pair (0,0), which then loses its right record.
    expect(kept).toEqual([[2, 0]]);
  });
});
