import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KernelError } from '../errors.ts';
import { computeShares, parseFundingRule, type FundingRule, type Subscriber } from './funding.ts';

const TIERS = { large: 4, medium: 2, small: 1, observer: 0 };

const subscribersArb = fc
  .uniqueArray(fc.stringMatching(/^[A-Z][A-Z0-9]{2,4}$/), { minLength: 1, maxLength: 40 })
  .chain((orgs) =>
    fc.tuple(
      ...orgs.map((org) =>
        fc.record({
          org: fc.constant(org),
          tier: fc.constantFrom('large', 'medium', 'small', 'observer'),
          population: fc.integer({ min: 0, max: 3_000_000 }),
          incomePence: fc.integer({ min: 0, max: 500_000_000_000 }),
        }),
      ),
    ),
  );

const ruleArb: fc.Arbitrary<FundingRule> = fc.oneof(
  fc.constant<FundingRule>({ kind: 'population' }),
  fc.constant<FundingRule>({ kind: 'income' }),
  fc.constant<FundingRule>({ kind: 'tiers', tiers: TIERS }),
  fc
    .dictionary(fc.constantFrom('large', 'medium', 'small', 'observer'), fc.integer({ min: 0, max: 1000 }))
    .map((tiers): FundingRule => ({
      kind: 'tiers',
      tiers: { large: 1, medium: 1, small: 1, observer: 1, ...tiers },
    })),
);

const sourcesArb = fc.array(
  fc.record({ name: fc.string({ minLength: 1 }), amountPence: fc.integer({ min: 0, max: 50_000_000 }) }),
  { maxLength: 3 },
);

function weightUnder(rule: FundingRule, s: Subscriber): number {
  if (rule.kind === 'population') return s.population ?? 0;
  if (rule.kind === 'income') return s.incomePence ?? 0;
  return rule.tiers[s.tier ?? ''] ?? 0;
}

describe('computeShares', () => {
  it('adds up to the cost less other funding, to the penny, under every rule', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 200_000_000 }),
        sourcesArb,
        ruleArb,
        subscribersArb,
        (costPence, sources, rule, subscribers) => {
          const weights = subscribers.map((s) => weightUnder(rule, s));
          const other = sources.reduce((sum, s) => sum + s.amountPence, 0);
          const net = Math.max(0, costPence - other);
          if (net > 0 && weights.every((w) => w === 0)) {
            expect(() => computeShares({ costPence, sources, rule, subscribers })).toThrow(KernelError);
            return;
          }
          const result = computeShares({ costPence, sources, rule, subscribers });
          expect(result.netPence).toBe(net);
          expect(result.shares.reduce((sum, s) => sum + s.sharePence, 0)).toBe(net);
          const total = weights.reduce((a, b) => a + b, 0);
          for (const share of result.shares) {
            expect(Number.isInteger(share.sharePence)).toBe(true);
            expect(share.sharePence).toBeGreaterThanOrEqual(0);
            // Largest remainder: every share is its exact proportion rounded down or up.
            const exact = total === 0 ? 0 : (net * share.weight) / total;
            expect(Math.abs(share.sharePence - exact)).toBeLessThan(1 + 1e-6);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('gives the same shares whatever order the subscribers come in', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10_000_000 }),
        ruleArb,
        subscribersArb,
        (costPence, rule, subscribers) => {
          fc.pre(subscribers.some((s) => weightUnder(rule, s) > 0));
          const a = computeShares({ costPence, sources: [], rule, subscribers });
          const b = computeShares({ costPence, sources: [], rule, subscribers: [...subscribers].reverse() });
          expect(b.shares).toEqual(a.shares);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('splits £100.00 three equal ways as 3334, 3333, 3333 pence, the odd penny to the first code', () => {
    const result = computeShares({
      costPence: 10_000,
      sources: [],
      rule: { kind: 'tiers', tiers: { one: 1 } },
      subscribers: ['RWF', 'RPA', 'RVV'].map((org) => ({ org, tier: 'one' })),
    });
    expect(result.shares.map((s) => [s.org, s.sharePence])).toEqual([
      ['RPA', 3334],
      ['RVV', 3333],
      ['RWF', 3333],
    ]);
  });

  it('lets other funding reduce what members pay, and never below nothing', () => {
    const subscribers = [
      { org: 'RWF', population: 100 },
      { org: 'RPA', population: 300 },
    ];
    const reduced = computeShares({
      costPence: 100_000,
      sources: [{ name: 'One-off allocation', amountPence: 20_000 }],
      rule: { kind: 'population' },
      subscribers,
    });
    expect(reduced.shares.map((s) => s.sharePence)).toEqual([60_000, 20_000]);
    const covered = computeShares({
      costPence: 100_000,
      sources: [{ name: 'Grant', amountPence: 150_000 }],
      rule: { kind: 'population' },
      subscribers,
    });
    expect(covered.netPence).toBe(0);
    expect(covered.surplusPence).toBe(50_000);
    expect(covered.shares.every((s) => s.sharePence === 0)).toBe(true);
  });

  it('names the subscriber a rule cannot weigh', () => {
    expect(() =>
      computeShares({
        costPence: 100,
        sources: [],
        rule: { kind: 'income' },
        subscribers: [{ org: 'RWF', incomePence: null }],
      }),
    ).toThrow(/RWF has no income/);
    expect(() =>
      computeShares({
        costPence: 100,
        sources: [],
        rule: { kind: 'tiers', tiers: { large: 2 } },
        subscribers: [{ org: 'RWF', tier: 'huge' }],
      }),
    ).toThrow(/tier "huge"/);
  });

  it('refuses a malformed rule with a hint', () => {
    expect(() => parseFundingRule({ kind: 'tiers', tiers: { large: 1.5 } })).toThrow(/whole number/);
    expect(() => parseFundingRule({ kind: 'lottery' })).toThrow(/unknown kind/);
    expect(parseFundingRule({ kind: 'income' })).toEqual({ kind: 'income' });
  });
});
