/**
 * The funding model: the programme's annual cost, less other funding sources (e.g. a
 * one-off allocation), shared between the year's confirmed subscribers by a rule that is
 * data:
 *
 * - `{ kind: 'tiers', tiers: { large: 4, medium: 2, small: 1 } }` — each subscriber's
 *   tier (set on its subscription) carries a whole number of units; the cost is shared in
 *   proportion to units (a fixed ratio between tiers, whatever the cost);
 * - `{ kind: 'population' }` — in proportion to each organisation's population;
 * - `{ kind: 'income' }` — in proportion to each organisation's annual income.
 *
 * Money is integer pence throughout. Shares are rounded by the largest-remainder
 * (Hamilton) method in exact integer arithmetic, so they always add up to the cost to
 * the penny and each is within a penny of its exact proportion.
 */
import { KernelError } from '../errors.ts';

export type FundingRule =
  { kind: 'tiers'; tiers: Record<string, number> } | { kind: 'population' } | { kind: 'income' };

export interface FundingSource {
  name: string;
  amountPence: number;
}

export interface Subscriber {
  org: string;
  tier?: string | null;
  population?: number | null;
  incomePence?: number | null;
}

export interface Share {
  org: string;
  /** the subscriber's weight under the rule (units, people or pence of income) */
  weight: number;
  sharePence: number;
}

export interface FundingResult {
  costPence: number;
  otherFundingPence: number;
  /** what members pay between them: cost less other funding, never below zero */
  netPence: number;
  /** other funding beyond the cost, if any (members then pay nothing) */
  surplusPence: number;
  totalWeight: number;
  shares: Share[];
  /** one line saying how the shares were worked out, for invoices and letters */
  basis: string;
}

/** Checks a rule read from the CLI, the API or the store. */
export function parseFundingRule(value: unknown): FundingRule {
  const fail = (why: string): never => {
    throw new KernelError('usage', `The funding rule is not valid: ${why}`, {
      where: { field: 'rule' },
      hint: 'Use {"kind":"population"}, {"kind":"income"} or {"kind":"tiers","tiers":{"large":4,"small":1}}',
    });
  };
  if (typeof value !== 'object' || value === null) return fail('it must be a JSON object');
  const kind = (value as { kind?: unknown }).kind;
  if (kind === 'population' || kind === 'income') return { kind };
  if (kind !== 'tiers') return fail(`unknown kind "${String(kind)}"`);
  const tiers = (value as { tiers?: unknown }).tiers;
  if (
    typeof tiers !== 'object' ||
    tiers === null ||
    Array.isArray(tiers) ||
    Object.keys(tiers).length === 0
  ) {
    return fail('"tiers" must name at least one tier');
  }
  for (const [name, units] of Object.entries(tiers)) {
    if (!Number.isSafeInteger(units) || (units as number) < 0)
      fail(`tier "${name}" must carry a whole number of units, 0 or more`);
  }
  return { kind: 'tiers', tiers: { ...(tiers as Record<string, number>) } };
}

export function describeRule(rule: FundingRule): string {
  if (rule.kind === 'population') return 'shared in proportion to population';
  if (rule.kind === 'income') return 'shared in proportion to annual income';
  const tiers = Object.entries(rule.tiers)
    .map(([name, units]) => `${name} ${units}`)
    .join(', ');
  return `shared in proportion to tier units (${tiers})`;
}

function weightOf(rule: FundingRule, subscriber: Subscriber): number {
  const missing = (what: string, hint: string): never => {
    throw new KernelError('invalid-input', `${subscriber.org} has no ${what}, which the funding rule needs`, {
      where: { field: what },
      hint,
    });
  };
  if (rule.kind === 'population') {
    return (
      subscriber.population ??
      missing('population', `Set it with \`kernel orgs set ${subscriber.org} --population N\``)
    );
  }
  if (rule.kind === 'income') {
    return (
      subscriber.incomePence ??
      missing('income', `Set it with \`kernel orgs set ${subscriber.org} --income POUNDS\``)
    );
  }
  const tier =
    subscriber.tier ??
    missing('tier', `Set it with \`kernel subscriptions set ${subscriber.org} --tier NAME\``);
  const units = rule.tiers[tier];
  if (units === undefined) {
    throw new KernelError(
      'invalid-input',
      `${subscriber.org} is in tier "${tier}", which the funding rule does not name`,
      {
        where: { field: 'tier' },
        hint: `The rule's tiers are ${Object.keys(rule.tiers).join(', ')}`,
      },
    );
  }
  return units;
}

/**
 * Shares `cost − other funding` between `subscribers` under `rule` by largest
 * remainder. Ties in remainder go to the organisation code first in order, so the same
 * inputs always give the same shares.
 */
export function computeShares(input: {
  costPence: number;
  sources: readonly FundingSource[];
  rule: FundingRule;
  subscribers: readonly Subscriber[];
}): FundingResult {
  const { costPence, rule } = input;
  if (!Number.isSafeInteger(costPence) || costPence < 0) {
    throw new KernelError('usage', 'The programme cost must be a whole number of pence, 0 or more', {
      where: { field: 'cost' },
    });
  }
  const otherFundingPence = input.sources.reduce((sum, s) => sum + s.amountPence, 0);
  const netPence = Math.max(0, costPence - otherFundingPence);
  const surplusPence = Math.max(0, otherFundingPence - costPence);
  const subscribers = [...input.subscribers].sort((a, b) => (a.org < b.org ? -1 : a.org > b.org ? 1 : 0));
  const weights = subscribers.map((s) => weightOf(rule, s));
  const totalWeight = weights.reduce((sum, w) => sum + w, 0);
  const basis = `Programme cost less other funding, ${describeRule(rule)}, rounded to the penny by largest remainder`;
  if (netPence > 0 && subscribers.length === 0) {
    throw new KernelError('conflict', 'Nobody has confirmed a subscription, so the cost cannot be shared', {
      hint: 'Confirm subscriptions first (`kernel subscriptions set ORG --year YYYY/YY --state confirmed`)',
    });
  }
  if (netPence > 0 && weights.every((w) => w === 0)) {
    throw new KernelError(
      'invalid-input',
      'Every subscriber weighs nothing under the funding rule, so the cost cannot be shared',
      {
        hint: 'Give the subscribers populations, incomes or tiers with units',
      },
    );
  }
  const net = BigInt(netPence);
  const total = weights.reduce((sum, w) => sum + BigInt(w), 0n);
  const exact = weights.map((w, index) => {
    if (total === 0n) return { index, floor: 0n, remainder: 0n };
    const numerator = net * BigInt(w);
    return { index, floor: numerator / total, remainder: numerator % total };
  });
  let leftover = net - exact.reduce((sum, e) => sum + e.floor, 0n);
  const byRemainder = [...exact].sort((a, b) =>
    b.remainder > a.remainder ? 1 : b.remainder < a.remainder ? -1 : a.index - b.index,
  );
  const extra = new Set<number>();
  for (const e of byRemainder) {
    if (leftover <= 0n) break;
    extra.add(e.index);
    leftover -= 1n;
  }
  const shares = subscribers.map((s, index) => ({
    org: s.org,
    weight: weights[index] ?? 0,
    sharePence: Number((exact[index]?.floor ?? 0n) + (extra.has(index) ? 1n : 0n)),
  }));
  return { costPence, otherFundingPence, netPence, surplusPence, totalWeight, shares, basis };
}
