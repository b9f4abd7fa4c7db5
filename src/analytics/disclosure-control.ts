/**
 * Statistical disclosure control for counts of people, the HES/ECDS method NHS Digital
 * adopted in September 2018 (reference digest §10, "Disclosure control for published NHS
 * statistics"):
 * - 0 is shown as 0;
 * - 1 to `threshold` (7) inclusive is replaced by `*`;
 * - anything larger is rounded to the nearest `base` (5);
 * - a percentage or rate is calculated from the rounded numerator and denominator, and is
 *   `*` when either is suppressed; a percentage carries one decimal place only where the
 *   rounded denominator is at least 4,000, otherwise none.
 *
 * It applies to every sub-national output for every role, except a providing organisation
 * viewing its own figures (it is the controller of those rows and holds them unrounded).
 */
import { KernelError } from '../errors.ts';

/** The disclosure rules Kernel applies: the HES 2018 method, or none (a provider's own figures). */
export const DISCLOSURE_POLICY_IDS = ['hes2018', 'none'] as const;

export interface DisclosurePolicy {
  id: (typeof DISCLOSURE_POLICY_IDS)[number];
  /** counts from 1 to this value inclusive are suppressed */
  threshold: number;
  /** other counts are rounded to the nearest multiple of this */
  base: number;
}

export const HES_2018: DisclosurePolicy = { id: 'hes2018', threshold: 7, base: 5 };
export const NO_DISCLOSURE_CONTROL: DisclosurePolicy = { id: 'none', threshold: 0, base: 1 };

/** A count as published: a number, or `*` where it is suppressed. */
export type ControlledCount = number | '*';

/** §10: "a rounded denominator ≥ 4,000" earns a percentage its first decimal place. */
const ONE_DECIMAL_DENOMINATOR = 4000;

export function checkPolicy(policy: DisclosurePolicy): DisclosurePolicy {
  if (!Number.isInteger(policy.threshold) || policy.threshold < 0) {
    throw new KernelError(
      'config',
      `Disclosure threshold must be a whole number of 0 or more, not ${policy.threshold}`,
      {
        where: { field: 'threshold' },
        hint: 'The HES 2018 rule uses 7',
      },
    );
  }
  if (!Number.isInteger(policy.base) || policy.base < 1) {
    throw new KernelError(
      'config',
      `Disclosure rounding base must be a whole number of 1 or more, not ${policy.base}`,
      {
        where: { field: 'base' },
        hint: 'The HES 2018 rule uses 5',
      },
    );
  }
  return policy;
}

/** One count under the policy. Rounding is half-up (only reachable with an even base). */
export function controlCount(count: number, policy: DisclosurePolicy): ControlledCount {
  if (policy.id === 'none') return count;
  if (count === 0) return 0;
  if (count <= policy.threshold) return '*';
  return Math.floor(count / policy.base + 0.5) * policy.base;
}

export const RATE_UNITS = ['percent', 'per-1000', 'count'] as const;
export type RateUnit = (typeof RATE_UNITS)[number];

export function unitScale(unit: RateUnit): number {
  return unit === 'percent' ? 100 : unit === 'per-1000' ? 1000 : 1;
}

export interface ControlledRate {
  numerator: ControlledCount;
  denominator: ControlledCount;
  /** the rate from the (rounded) counts, rounded to `decimals`; `*` if suppressed; null without a denominator */
  value: number | '*' | null;
  decimals: number;
}

/**
 * A rate under the policy, from unrounded counts. Without control the value keeps one
 * decimal place (it is the provider's own figure); with control, the precision follows §10:
 * one decimal place for a percentage only from a rounded denominator of 4,000, and the same
 * resolution for a rate per 1,000 (one decimal place from 40,000).
 */
export function controlRate(
  numerator: number,
  denominator: number,
  unit: RateUnit,
  policy: DisclosurePolicy,
): ControlledRate {
  const num = controlCount(numerator, policy);
  const den = controlCount(denominator, policy);
  if (unit === 'count') {
    return { numerator: num, denominator: den, value: num, decimals: 0 };
  }
  if (num === '*' || den === '*') return { numerator: num, denominator: den, value: '*', decimals: 0 };
  if (den === 0) return { numerator: num, denominator: den, value: null, decimals: 0 };
  const scale = unitScale(unit);
  const decimals = policy.id === 'none' ? 1 : den >= ONE_DECIMAL_DENOMINATOR * (scale / 100) ? 1 : 0;
  return { numerator: num, denominator: den, value: roundTo((num * scale) / den, decimals), decimals };
}

function roundTo(value: number, decimals: number): number {
  const factor = 10 ** decimals;
  return Math.round(value * factor) / factor;
}

/** Who is looking, for the exemption. */
export interface Viewer {
  role: string;
  /** the organisation a provider user belongs to */
  org?: string | null;
}

/**
 * The policy for a viewer looking at figures for `scopeOrg` (undefined = the whole system).
 * Only a provider viewing its own organisation's figures sees them unrounded; the whole
 * system's figures combine other controllers' data, so they are controlled for everyone.
 */
export function policyFor(
  viewer: Viewer,
  scopeOrg: string | undefined,
  policy: DisclosurePolicy = HES_2018,
): DisclosurePolicy {
  const ownFigures =
    viewer.role === 'provider' &&
    typeof viewer.org === 'string' &&
    viewer.org !== '' &&
    viewer.org === scopeOrg;
  return ownFigures ? NO_DISCLOSURE_CONTROL : policy;
}

/** The rule in plain English, to show on every controlled output. */
export function describePolicy(policy: DisclosurePolicy): string {
  if (policy.id === 'none') {
    return 'These are your organisation’s own figures, shown without suppression or rounding. Do not share them outside your organisation without applying disclosure control.';
  }
  return (
    `Small numbers are controlled by the NHS Digital (HES) 2018 method: counts from 1 to ${policy.threshold} are shown as *, ` +
    `other counts are rounded to the nearest ${policy.base}, and 0 is shown as 0. Percentages and rates are calculated ` +
    `from the rounded numerator and denominator, and shown as * when either is suppressed.`
  );
}

/**
 * The policy for counts in operational metadata about an organisation's data (load reports,
 * the coverage grid, the linkage report: issue 23, H1). The rows counted are patients'
 * records, so a count of 1–7 babies in a month discloses as much here as on a dashboard.
 * Exact for a provider's own organisation (as `policyFor`) and for an admin, who runs the
 * feeds and must reconcile a load with its sender row for row; controlled for every other role.
 */
export function metadataPolicyFor(
  viewer: Viewer,
  scopeOrg: string | undefined,
  policy: DisclosurePolicy = HES_2018,
): DisclosurePolicy {
  return viewer.role === 'admin' ? NO_DISCLOSURE_CONTROL : policyFor(viewer, scopeOrg, policy);
}

/** A copy of `record` with the named counts under the policy. */
export function controlCounts<T extends object, K extends keyof T>(
  record: T,
  keys: readonly K[],
  policy: DisclosurePolicy,
): Omit<T, K> & Record<K, ControlledCount> {
  const out: Record<string, unknown> = { ...(record as Record<string, unknown>) };
  for (const key of keys) out[key as string] = controlCount(Number(record[key]), policy);
  return out as Omit<T, K> & Record<K, ControlledCount>;
}
