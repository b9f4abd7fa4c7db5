import { describe, expect, it } from 'vitest';
import { auroc, calibrationByDecile, fitLogistic, logistic, type OutcomeGroup } from './risk-regression.ts';

// A 2×2 table: 30 of 100 exposed people and 10 of 100 unexposed people had the outcome.
const [a, b, c, d] = [30, 70, 10, 90];
const table: OutcomeGroup[] = [
  { x: [1, 1], people: a + b, events: a },
  { x: [1, 0], people: c + d, events: c },
];

const dotOf = (x: readonly number[], beta: readonly number[]): number =>
  x.reduce((s, v, i) => s + v * (beta[i] ?? 0), 0);

describe('fitting a logistic regression', () => {
  it('finds the 2×2 table\u2019s known answer: the log odds ratio, and Woolf\u2019s standard error', () => {
    const fit = fitLogistic(table, { ridge: 0 });
    // For a saturated model the maximum likelihood estimate is the table's own log odds.
    expect(fit.coefficients[0]).toBeCloseTo(Math.log(c / d), 10);
    expect(fit.coefficients[1]).toBeCloseTo(Math.log((a * d) / (b * c)), 10);
    expect(fit.standardErrors[0]).toBeCloseTo(Math.sqrt(1 / c + 1 / d), 10);
    expect(fit.standardErrors[1]).toBeCloseTo(Math.sqrt(1 / a + 1 / b + 1 / c + 1 / d), 10);
    expect(fit.converged).toBe(true);
    expect(fit.iterations).toBeLessThan(10);
  });

  it('shrinks a coefficient toward 0 with the ridge penalty, by little on many people, and keeps the intercept\u2019s rate', () => {
    const slope = (groups: OutcomeGroup[], ridge: number): number =>
      fitLogistic(groups, { ridge }).coefficients[1] ?? NaN;
    const mle = slope(table, 0);
    // λ = 1 against an information of about 6 for the slope: shrunk by about 1/7 on 200 people…
    expect(slope(table, 1)).toBeLessThan(mle - 0.1);
    // …and by about 1/600 on a hundred times as many, as on a warehouse's population.
    const many = table.map((g) => ({ ...g, people: g.people * 100, events: g.events * 100 }));
    expect(mle - slope(many, 1)).toBeGreaterThan(0);
    expect(mle - slope(many, 1)).toBeLessThan(0.005);
    // The fitted risks still add up to the outcomes seen: the intercept is not penalised.
    const ridged = fitLogistic(table, { ridge: 1 });
    const fitted = table.reduce((n, g) => n + g.people * logistic(dotOf(g.x, ridged.coefficients)), 0);
    expect(fitted).toBeCloseTo(a + c, 8);
  });

  it('gives the same fit from grouped data as from one row a person', () => {
    const grouped: OutcomeGroup[] = [
      { x: [1, 0, 2], people: 6, events: 1 },
      { x: [1, 1, 0], people: 5, events: 2 },
      { x: [1, 1, 3], people: 4, events: 3 },
      { x: [1, 0, 1], people: 7, events: 2 },
    ];
    const people: OutcomeGroup[] = grouped.flatMap((g) =>
      Array.from({ length: g.people }, (_, i) => ({ x: g.x, people: 1, events: i < g.events ? 1 : 0 })),
    );
    const one = fitLogistic(grouped);
    const other = fitLogistic(people);
    one.coefficients.forEach((beta, j) => expect(beta).toBeCloseTo(other.coefficients[j] ?? NaN, 9));
    one.standardErrors.forEach((se, j) => expect(se).toBeCloseTo(other.standardErrors[j] ?? NaN, 9));
  });

  it('stays finite where a term\u2019s holders all had the outcome, and refuses data with no outcome at all', () => {
    const separated: OutcomeGroup[] = [
      { x: [1, 1], people: 5, events: 5 },
      { x: [1, 0], people: 50, events: 10 },
    ];
    const fit = fitLogistic(separated);
    expect(Number.isFinite(fit.coefficients[1])).toBe(true);
    expect(fit.coefficients[1]).toBeGreaterThan(1);
    expect(() => fitLogistic([{ x: [1, 1], people: 5, events: 0 }])).toThrow(/nobody in the fitting data/);
  });
});

describe('judging a model', () => {
  it('computes the AUROC as the share of (outcome, no outcome) pairs ranked the right way, ties one half', () => {
    const groups = [
      { risk: 0.1, people: 4, events: 1 },
      { risk: 0.3, people: 3, events: 1 },
      { risk: 0.3, people: 2, events: 1 },
      { risk: 0.6, people: 2, events: 2 },
    ];
    // Brute force over every pair of people.
    const people = groups.flatMap((g) =>
      Array.from({ length: g.people }, (_, i) => ({ risk: g.risk, event: i < g.events })),
    );
    let pairs = 0;
    let right = 0;
    for (const p of people.filter((x) => x.event))
      for (const q of people.filter((x) => !x.event)) {
        pairs++;
        right += p.risk > q.risk ? 1 : p.risk === q.risk ? 0.5 : 0;
      }
    expect(auroc(groups)).toBeCloseTo(right / pairs, 12);
    expect(auroc([{ risk: 0.2, people: 10, events: 3 }])).toBe(0.5);
    expect(
      auroc([
        { risk: 0.1, people: 5, events: 0 },
        { risk: 0.9, people: 5, events: 5 },
      ]),
    ).toBe(1);
    expect(auroc([{ risk: 0.1, people: 5, events: 0 }])).toBeNull();
  });

  it('cuts people into ten equal tenths by predicted risk, splitting a shared risk across a cut', () => {
    const single = Array.from({ length: 20 }, (_, i) => ({ risk: i / 20, people: 1, events: i % 2 }));
    const deciles = calibrationByDecile(single);
    expect(deciles.map((x) => x.people)).toEqual(new Array(10).fill(2));
    expect(deciles[0]).toMatchObject({ decile: 1, predicted: 0.025, observed: 0.5 });
    // 10 people at one risk, 4 of them with the outcome, fill deciles 1–5 of 20 people.
    const shared = calibrationByDecile([
      { risk: 0.2, people: 10, events: 4 },
      { risk: 0.5, people: 10, events: 6 },
    ]);
    expect(shared.map((x) => x.people)).toEqual(new Array(10).fill(2));
    expect(shared[0]).toMatchObject({ predicted: 0.2, events: 0.8, observed: 0.4 });
    expect(shared[9]).toMatchObject({ predicted: 0.5 });
    expect(shared.reduce((n, x) => n + x.events, 0)).toBeCloseTo(10, 12);
  });
});
