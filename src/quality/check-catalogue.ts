/**
 * The data-quality check catalogue (issue 16; docs/data-quality.md), held as data in the way
 * OHDSI's Data Quality Dashboard holds its checks: a few check **kinds**, each a rule with a
 * threshold, made into check **instances** for every dataset and field they apply to.
 *
 * Where the instances come from:
 * - every dataset's specification: for each accepted field, **conformance** (the share of
 *   rows the load quarantined for that field: type, code list, format, required, date order),
 *   **completeness** (filled against the expected level: 100% for a required field, the level
 *   `checks.json` sets for an optional one, otherwise not applicable) and **completeness over
 *   time** (a fall against the feed's own history, on an XmR chart, and against the same month
 *   last year); for each dataset, **volume** (rows against the feed's history);
 * - `checks.json`: expected completeness of optional fields, **plausibility** rules (a value
 *   range; at most so many days between two dates) and **uniqueness** (one row per key).
 *
 * Each result is pass, warn, fail or not applicable (no expected level; too little history).
 * Thresholds are per kind in `checks.json`. Checks read only a load's **profile**
 * (load-profile.ts), stored with the load, and the profiles of its feed's earlier months, so
 * a pack can be opened again and again without reading a warehouse row.
 */
import { getDataset, listDatasets } from '../catalogue/catalogue.ts';
import { deidPlan, type AcceptedColumn } from '../privacy/deid-plan.ts';
import { xmrChart } from '../analytics/spc.ts';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const CHECK_CATEGORIES = ['conformance', 'completeness', 'plausibility', 'consistency'] as const;
export type CheckCategory = (typeof CHECK_CATEGORIES)[number];
export const CHECK_KINDS = [
  'conformance',
  'completeness',
  'plausibility',
  'uniqueness',
  'volume',
  'completeness-over-time',
] as const;
export type CheckKind = (typeof CHECK_KINDS)[number];
export const CHECK_STATUSES = ['pass', 'warn', 'fail', 'not-applicable'] as const;
export type CheckStatus = (typeof CHECK_STATUSES)[number];

export type PlausibilityRule =
  | { id: string; title: string; kind: 'range'; field: string; min: number; max: number }
  | { id: string; title: string; kind: 'days-between'; from: string; to: string; max: number };

export interface UniqueRule {
  id: string;
  title: string;
  fields: string[];
}

export interface CheckDefinition {
  /** `<dataset>/<kind>/<field or rule>`, stable: results are compared month by month by it */
  id: string;
  dataset: string;
  kind: CheckKind;
  category: CheckCategory;
  field: string | null;
  title: string;
  /** for completeness: the level expected, in per cent; null when none is set */
  expected?: number | null;
  rule?: PlausibilityRule | UniqueRule;
}

export interface CheckResult {
  id: string;
  kind: CheckKind;
  category: CheckCategory;
  field: string | null;
  title: string;
  status: CheckStatus;
  /** the figure the status was decided on, with its unit in `detail` */
  value: number | null;
  detail: string;
}

interface Thresholds {
  conformance: { warnAbovePercent: number; failAbovePercent: number };
  completeness: { warnBelowPoints: number; failBelowPoints: number };
  plausibility: { warnAbovePercent: number; failAbovePercent: number };
  uniqueness: { warnAbovePercent: number; failAbovePercent: number };
  volume: { warnChangePercent: number; failChangePercent: number };
  completenessOverTime: { warnDropPoints: number; failDropPoints: number };
}

interface DatasetEntry {
  /** thresholds for this dataset, over the catalogue's (any kind, any part of one) */
  thresholds?: Partial<{ [K in keyof Thresholds]: Partial<Thresholds[K]> }>;
  /** thresholds for one field of this dataset, over the dataset's */
  fieldThresholds?: Record<string, Partial<{ [K in keyof Thresholds]: Partial<Thresholds[K]> }>>;
  /** the code fields whose distributions each profile keeps */
  keyFields?: string[];
  completeness?: Record<string, number>;
  plausibility?: PlausibilityRule[];
  unique?: UniqueRule[];
}

/** checks.json, beside this file: read once, as the catalogue reads its specifications. */
const DATA = JSON.parse(
  readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), 'checks.json'), 'utf8'),
) as { thresholds: Thresholds; datasets: Record<string, DatasetEntry> };
export const THRESHOLDS: Thresholds = DATA.thresholds;

/** A dataset's entry in checks.json (empty when it has none). */
export function datasetEntry(dataset: string): DatasetEntry {
  return DATA.datasets[dataset] ?? {};
}

/** The accepted fields a conformance rule can fail on (the others are the agent's own output). */
function checkedByRules(column: AcceptedColumn): boolean {
  return (
    column.kind === 'copy' &&
    (column.required ||
      column.type !== 'string' ||
      !!column.field.codeList ||
      !!column.field.pattern ||
      column.field.maxLength !== undefined)
  );
}

/** Every check for one dataset. */
export function checksFor(dataset: string): CheckDefinition[] {
  const plan = deidPlan(getDataset(dataset));
  const entry = datasetEntry(dataset);
  const checks: CheckDefinition[] = [
    {
      id: `${dataset}/volume/rows`,
      dataset,
      kind: 'volume',
      category: 'consistency',
      field: null,
      title: 'Rows this month against the feed’s history and the same month last year',
    },
  ];
  for (const column of plan.columns) {
    if (checkedByRules(column)) {
      checks.push({
        id: `${dataset}/conformance/${column.name}`,
        dataset,
        kind: 'conformance',
        category: 'conformance',
        field: column.name,
        title: `${column.name} conforms to its specification (type, code list, format, required, date order)`,
      });
    }
    const expected = column.required ? 100 : (entry.completeness?.[column.name] ?? null);
    checks.push({
      id: `${dataset}/completeness/${column.name}`,
      dataset,
      kind: 'completeness',
      category: 'completeness',
      field: column.name,
      title: `${column.name} is filled${expected === null ? '' : ` in at least ${expected}% of rows`}`,
      expected,
    });
    checks.push({
      id: `${dataset}/completeness-over-time/${column.name}`,
      dataset,
      kind: 'completeness-over-time',
      category: 'consistency',
      field: column.name,
      title: `${column.name} is as complete as in the feed’s earlier months`,
    });
  }
  for (const rule of entry.plausibility ?? []) {
    checks.push({
      id: `${dataset}/plausibility/${rule.id}`,
      dataset,
      kind: 'plausibility',
      category: 'plausibility',
      field: rule.kind === 'range' ? rule.field : rule.to,
      title: rule.title,
      rule,
    });
  }
  for (const rule of entry.unique ?? []) {
    checks.push({
      id: `${dataset}/uniqueness/${rule.id}`,
      dataset,
      kind: 'uniqueness',
      category: 'plausibility',
      field: rule.fields.join(', '),
      title: rule.title,
      rule,
    });
  }
  return checks;
}

/** The whole catalogue: every dataset's checks. */
export function checkCatalogue(): CheckDefinition[] {
  return listDatasets().flatMap((spec) => checksFor(spec.id));
}

/** What a load's profile holds (load-profile.ts builds it). */
export interface LoadProfile {
  /** rows read, and rows kept (read less exact repeats) */
  rowsRead: number;
  rowsKept: number;
  rowsLoaded: number;
  /** rows quarantined, by the field whose rule they failed first */
  quarantinedByField: Record<string, number>;
  /** filled values per accepted field, over the rows kept */
  filled: Record<string, number>;
  /** numeric and date fields: smallest, largest, mean (numbers) */
  ranges: Record<string, { min: number | string | null; max: number | string | null; mean?: number | null }>;
  /** code fields: the most frequent values and their counts */
  top: Record<string, { value: string; count: number }[]>;
  /** plausibility rule id → rows breaking it */
  implausible: Record<string, number>;
  /** unique rule id → rows beyond the first with the same key */
  duplicates: Record<string, number>;
}

/** A profile of the same feed in an earlier month, for comparison. */
export interface EarlierProfile {
  period: string;
  profile: LoadProfile;
}

const pct = (part: number, whole: number): number => (whole > 0 ? (part * 100) / whole : 0);
const round1 = (n: number): number => Math.round(n * 10) / 10;

function byThreshold(value: number, warn: number, fail: number): CheckStatus {
  return value > fail ? 'fail' : value > warn ? 'warn' : 'pass';
}

/**
 * A check of the rows a load's profile counted under one rule (implausible values, repeated
 * keys): their share of the rows loaded, against the thresholds. A load profiled before the
 * rule's counts were kept has nothing to judge.
 */
function ruleShareResult(
  base: Pick<CheckResult, 'id' | 'kind' | 'category' | 'field' | 'title'>,
  countedByRule: Record<string, number>,
  ruleId: string,
  rowsLoaded: number,
  limits: { warnAbovePercent: number; failAbovePercent: number },
  describe: (rows: number, share: number) => string,
): CheckResult {
  if (!(ruleId in countedByRule)) {
    return {
      ...base,
      status: 'not-applicable',
      value: null,
      detail: 'Not profiled: the load came before profiles were kept',
    };
  }
  const rows = countedByRule[ruleId] ?? 0;
  const share = pct(rows, rowsLoaded);
  return {
    ...base,
    status:
      rowsLoaded === 0
        ? 'not-applicable'
        : byThreshold(share, limits.warnAbovePercent, limits.failAbovePercent),
    value: round1(share),
    detail: describe(rows, round1(share)),
  };
}

/**
 * Every check of a dataset against one load's profile and its feed's earlier profiles
 * (oldest first; `period` is this load's month). Failing first, then warnings, passes, and
 * not applicable.
 */
export function evaluateChecks(
  dataset: string,
  period: string,
  profile: LoadProfile,
  earlier: readonly EarlierProfile[],
): CheckResult[] {
  const entry = datasetEntry(dataset);
  const previous = earlier.at(-1);
  const lastYear = earlier.find((e) => e.period === sameMonthLastYear(period));
  const results = checksFor(dataset).map((check): CheckResult => {
    const t = thresholdsFor(entry, check.field);
    const base = {
      id: check.id,
      kind: check.kind,
      category: check.category,
      field: check.field,
      title: check.title,
    };
    const field = check.field ?? '';
    switch (check.kind) {
      case 'volume': {
        const history = [...earlier.map((e) => e.profile.rowsLoaded), profile.rowsLoaded];
        const spc = xmrChart(history, { polarity: 'neutral' });
        const special = spc.points.at(-1)?.rules ?? [];
        const against = lastYear ?? previous;
        if (!against) {
          return {
            ...base,
            status: 'not-applicable',
            value: profile.rowsLoaded,
            detail: `${profile.rowsLoaded} rows: the feed's first month, nothing to compare with`,
          };
        }
        const change = pct(
          Math.abs(profile.rowsLoaded - against.profile.rowsLoaded),
          against.profile.rowsLoaded,
        );
        const status = byThreshold(change, t.volume.warnChangePercent, t.volume.failChangePercent);
        return {
          ...base,
          status: status === 'pass' && special.length > 0 ? 'warn' : status,
          value: round1(change),
          detail: `${profile.rowsLoaded} rows against ${against.profile.rowsLoaded} in ${against.period} (${round1(change)}% change)${special.length ? `; special cause on the feed's XmR chart (${special.join(', ')})` : ''}`,
        };
      }
      case 'conformance': {
        const bad = profile.quarantinedByField[field] ?? 0;
        const share = pct(bad, profile.rowsRead);
        return {
          ...base,
          status: byThreshold(share, t.conformance.warnAbovePercent, t.conformance.failAbovePercent),
          value: round1(share),
          detail: `${bad} of ${profile.rowsRead} rows quarantined on ${field} (${round1(share)}%)`,
        };
      }
      case 'completeness': {
        const filled = pct(profile.filled[field] ?? 0, profile.rowsKept);
        if (check.expected === null || check.expected === undefined) {
          return {
            ...base,
            status: 'not-applicable',
            value: round1(filled),
            detail: `${round1(filled)}% filled; no expected level is set for this field`,
          };
        }
        const below = check.expected - filled;
        return {
          ...base,
          status:
            below > t.completeness.failBelowPoints
              ? 'fail'
              : below > t.completeness.warnBelowPoints
                ? 'warn'
                : 'pass',
          value: round1(filled),
          detail: `${round1(filled)}% filled, against ${check.expected}% expected`,
        };
      }
      case 'completeness-over-time': {
        const now = pct(profile.filled[field] ?? 0, profile.rowsKept);
        const series = [...earlier.map((e) => pct(e.profile.filled[field] ?? 0, e.profile.rowsKept)), now];
        const against = lastYear ?? previous;
        if (!against) {
          return {
            ...base,
            status: 'not-applicable',
            value: round1(now),
            detail: 'The feed’s first month: nothing to compare with',
          };
        }
        const before = pct(against.profile.filled[field] ?? 0, against.profile.rowsKept);
        const drop = before - now;
        const spc = xmrChart(series, { polarity: 'higher-is-better' });
        const concern = spc.points.at(-1)?.meaning === 'concern';
        const status = byThreshold(
          drop,
          t.completenessOverTime.warnDropPoints,
          t.completenessOverTime.failDropPoints,
        );
        return {
          ...base,
          status: status === 'pass' && concern && drop > 0 ? 'warn' : status,
          value: round1(drop),
          detail: `${round1(now)}% filled, against ${round1(before)}% in ${against.period}${concern ? '; a fall on the feed’s XmR chart' : ''}`,
        };
      }
      case 'plausibility': {
        const rule = check.rule as PlausibilityRule;
        return ruleShareResult(
          base,
          profile.implausible,
          rule.id,
          profile.rowsLoaded,
          t.plausibility,
          (bad, share) => `${bad} of ${profile.rowsLoaded} rows loaded (${share}%)`,
        );
      }
      case 'uniqueness': {
        const rule = check.rule as UniqueRule;
        return ruleShareResult(
          base,
          profile.duplicates,
          rule.id,
          profile.rowsLoaded,
          t.uniqueness,
          (extra, share) =>
            `${extra} rows share a ${rule.fields.join(' and ')} with an earlier row (${share}%)`,
        );
      }
    }
  });
  const order: Record<CheckStatus, number> = { fail: 0, warn: 1, pass: 2, 'not-applicable': 3 };
  return results.sort((a, b) => order[a.status] - order[b.status]);
}

/** The thresholds for a check: the field's, over the dataset's, over the catalogue's. */
export function thresholdsFor(entry: DatasetEntry, field: string | null): Thresholds {
  const layers = [entry.thresholds, field === null ? undefined : entry.fieldThresholds?.[field]];
  const out = structuredClone(THRESHOLDS) as unknown as Record<string, Record<string, number>>;
  for (const layer of layers) {
    for (const [kind, values] of Object.entries(layer ?? {})) {
      Object.assign((out[kind] ??= {}), values);
    }
  }
  return out as unknown as Thresholds;
}

export function sameMonthLastYear(period: string): string {
  const [y, m] = period.split('-');
  return `${Number(y) - 1}-${m}`;
}
